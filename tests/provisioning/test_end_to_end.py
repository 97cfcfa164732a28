"""The issue's end-to-end run against moto's server over HTTP."""

from decimal import Decimal

from smsbot import provisioning
from smsbot.provisioning.core import Retired
from tests.provisioning.conftest import provision, run


def test_provision_verify_rerun_change_teardown(aws, settings, aws_sms, sns_sandbox):
    # An account out of both SMS sandboxes, its number's toll-free verification approved.
    sns_sandbox.in_sandbox = False
    aws_sms.tier = "PRODUCTION"
    approved = aws_sms.add_registration("US_TOLL_FREE_REGISTRATION", "COMPLETE")
    aws_sms.number("+13125550100")["RegistrationId"] = approved
    # Retired resources are only mentioned when there is something to delete.
    resources = len([r for r in provisioning.resources() if not isinstance(r, Retired)])

    first = provision()
    assert not first.lines("unchanged")
    assert "SES" not in first.out  # e-mail is off (EMAIL_FROM unset): nothing of SES
    assert len(first.lines("create")) + len(first.lines("update")) == resources

    verified = run("verify_aws")
    assert verified.error is None, verified.out
    assert verified.checks("✓") and not verified.checks("✗")
    noted = verified.checks("–")  # logs flowing: nothing sent through SNS yet
    assert [line.split(":")[0] for line in noted] == ["– CloudWatch logs flowing"]
    assert f"All {len(verified.checks('✓')) + len(noted)} checks passed." in verified.out

    again = provision()
    assert len(again.lines("unchanged")) == resources

    settings.SMS_MONTHLY_SPEND_LIMIT_USD = Decimal("150")
    plan = run("provision_aws", "--dry-run")
    [update] = plan.lines("update")
    assert len(plan.lines("unchanged")) == resources - 1
    # The one line names every object the limit drives.
    assert "MonthlySpendLimit: 100 → 150" in update
    assert "alarm sms-spend-80pct Threshold: 80.0 → 120.0" in update
    assert "budget smsbot-monthly-sms limit: 100 USD → 150 USD" in update

    teardown = run("teardown_aws", "--yes", "--delete-data")
    assert teardown.error is None, teardown.out
    assert aws_sms.number("+13125550100")["TwoWayEnabled"] is False

    after = run("verify_aws")
    failed = after.checks("✗")
    counted = len(failed) + len(after.checks("✓")) + len(after.checks("–"))
    assert after.error == f"{len(failed)} of {counted} checks failed."
    for part in (
        "IAM role sns-sms-logs: missing",
        "IAM role smsbot-portal: missing",
        "CloudWatch log group sns/us-east-1/123456789012/DirectPublishToPhoneNumber: missing",
        "SNS topic bot-sms-inbound: missing",
        "DynamoDB table BotSubscribers: missing",
        "SNS subscription bot-sms-inbound → https://portal.example.com/webhooks/sns/: missing",
        "CloudWatch dashboard SMS-Bot-Operations: missing",
        "CloudWatch alarm sms-spend-80pct: missing",
        "budget smsbot-monthly-sms: missing",
    ):
        assert any(line == f"✗ {part}" for line in failed), part
