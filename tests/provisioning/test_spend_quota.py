"""A new account's 1 USD SMS spend quota: planned, never exceeded, and used by the budget guard."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from messaging.billing import budget
from smsbot.aws import client
from tests.fakes.aws_sms_server import SpendLimit
from tests.provisioning.conftest import provision, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_account(aws, aws_sms):
    aws_sms.spend_limit = SpendLimit()  # a new account's: 1 USD
    return aws_sms


def test_the_plan_uses_the_quota_and_says_what_to_request(new_account, settings):
    plan = run("provision_aws", "--dry-run")
    [line] = [line for line in plan.lines("update") if "SMS spend limit" in line]
    assert "MonthlySpendLimit: (unset) → 1" in line
    assert "alarm sms-spend-80pct" in line and "budget smsbot-monthly-sms" in line
    assert (
        "warning: SMS_MONTHLY_SPEND_LIMIT_USD 100 USD is above the account's monthly SMS "
        "spend quota of 1 USD: MonthlySpendLimit, the alarm and the budget use 1 USD. To spend "
        "up to 100 USD a month, request a spend quota increase"
    ) in plan.out

    provision()
    attributes = client("sns").get_sms_attributes()["attributes"]
    assert attributes["MonthlySpendLimit"] == "1"
    budget_limit = client("budgets").describe_budget(
        AccountId="123456789012", BudgetName="smsbot-monthly-sms"
    )["Budget"]["BudgetLimit"]
    assert Decimal(budget_limit["Amount"]) == 1
    [alarm] = client("cloudwatch").describe_alarms(AlarmNames=["sms-spend-80pct"])["MetricAlarms"]
    assert alarm["Threshold"] == 0.8

    verified = run("verify_aws")
    assert verified.error is None, verified.out
    [quota] = [line for line in verified.out.splitlines() if "SMS spend quota" in line]
    assert quota.startswith("– SMS spend quota: 1 USD a month, below SMS_MONTHLY_SPEND_LIMIT_USD")

    # Once AWS raises the quota, the next run plans the setting.
    new_account.spend_limit = SpendLimit(enforced=500, maximum=500)
    [raised] = run("provision_aws", "--dry-run").lines("update")
    assert "MonthlySpendLimit: 1 → 100" in raised


def test_the_budget_guard_stops_at_the_quota_when_aws_sends(new_account, settings):
    settings.SMS_PROVIDER = "sns"
    cache.clear()
    assert budget.limit() == Decimal("1")
    assert budget.reserve(Decimal("0.90"))
    assert not budget.reserve(Decimal("0.20"))  # would pass the 1 USD quota

    settings.SMS_PROVIDER = "twilio"  # AWS's quota does not bind Twilio
    assert budget.limit() == Decimal("100")


def test_an_unreadable_quota_leaves_the_guard_on_the_setting(new_account, settings):
    from tests.fakes.aws_sms_server import AwsError

    settings.SMS_PROVIDER = "sns"
    cache.clear()
    new_account.fail_next("DescribeSpendLimits", AwsError("AccessDeniedException", "no"), times=5)
    assert budget.limit() == Decimal("100")
