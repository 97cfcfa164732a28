"""verify_aws's "CloudWatch logs flowing": SNS writes delivery lines for what was sent."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from messaging.outbound import metrics as send_metrics
from smsbot import metrics
from smsbot.aws import client
from tests.fakes.sns_delivery_logs import SnsDeliveryLogs
from tests.provisioning.conftest import provision, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def provisioned(aws, settings):
    settings.CLOUDWATCH_METRICS_ENABLED = True
    provision()
    return SnsDeliveryLogs(client("logs"), "us-east-1", "123456789012")


def sent_through_sns(count: int) -> None:
    for _ in range(count):
        send_metrics.message_sent("sns", "sms", Decimal("0.00645"))
    metrics.flush()


def flowing(out: str) -> str:
    [line] = [line for line in out.splitlines() if "CloudWatch logs flowing" in line]
    return line


def test_sms_sent_but_no_delivery_line_fails_the_check(provisioned):
    sent_through_sns(3)
    result = run("verify_aws")
    assert result.error and result.error.startswith("1 of ")
    assert flowing(result.out) == (
        "✗ CloudWatch logs flowing: 3 SMS sent through SNS in the last day but no delivery "
        "line yet — check the DeliveryStatusIAMRole SMS setting and the sns-sms-logs role"
    )


def test_a_line_older_than_a_day_is_not_flowing(provisioned):
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    provisioned.write(provisioned.success("old-1", "+13125550123"), at=two_days_ago)
    sent_through_sns(1)
    line = flowing(run("verify_aws").out)
    assert line.startswith("✗") and f"newest delivery line {two_days_ago:%Y-%m-%d}" in line


def test_a_recent_line_passes(provisioned):
    sent_through_sns(2)
    provisioned.write(provisioned.failure("m-1", "+13125550123"))  # failures count too
    result = run("verify_aws")
    assert result.error is None, result.out
    assert flowing(result.out).startswith("✓ CloudWatch logs flowing: newest delivery line ")


def test_nothing_sent_is_noted_not_failed(provisioned):
    result = run("verify_aws")
    assert result.error is None
    assert flowing(result.out).startswith("– CloudWatch logs flowing: no SMS sent through SNS")
