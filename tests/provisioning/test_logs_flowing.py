"""verify_aws's "CloudWatch logs flowing": SNS writes delivery lines for what was sent."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from messaging.outbound import metrics as send_metrics
from smsbot import metrics
from smsbot.aws import client
from smsbot.aws_names import METRIC_SENT, METRICS_NAMESPACE
from tests.fakes.sns_delivery_logs import SnsDeliveryLogs
from tests.provisioning.conftest import provision, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def provisioned(aws, settings):
    settings.CLOUDWATCH_METRICS_ENABLED = True
    provision()
    return SnsDeliveryLogs(client("logs"), "us-east-1", "123456789012")


def sent_through_sns(count: int) -> None:
    """count SMS sent now, recorded as the workers record them."""
    for _ in range(count):
        send_metrics.message_sent("sns", "sms", Decimal("0.00645"))
    metrics.flush()


def sent_through_sns_ago(count: int, ago: timedelta) -> None:
    """count SMS whose sent metric is stamped `ago` in the past."""
    client("cloudwatch").put_metric_data(
        Namespace=METRICS_NAMESPACE,
        MetricData=[
            {
                "MetricName": METRIC_SENT,
                "Dimensions": [
                    {"Name": "Channel", "Value": "sms"},
                    {"Name": "Provider", "Value": "sns"},
                ],
                "Timestamp": datetime.now(UTC) - ago,
                "Value": count,
            }
        ],
    )


def flowing(out: str) -> str:
    [line] = [line for line in out.splitlines() if "CloudWatch logs flowing" in line]
    return line


def test_sms_sent_but_no_delivery_line_fails_the_check(provisioned):
    sent_through_sns_ago(3, timedelta(minutes=10))
    result = run("verify_aws")
    assert result.error and result.error.startswith("1 of ")
    assert flowing(result.out) == (
        "✗ CloudWatch logs flowing: 3 SMS sent through SNS in the last day but no delivery "
        "line yet — check the DeliveryStatusIAMRole SMS setting and the sns-sms-logs role"
    )


def test_a_line_older_than_a_day_is_not_flowing(provisioned):
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    provisioned.write(provisioned.success("old-1", "+13125550123"), at=two_days_ago)
    sent_through_sns_ago(1, timedelta(hours=3))
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


def test_sends_of_the_last_minutes_are_not_judged_yet(provisioned):
    # SNS writes a delivery line once the carrier answers: right after a send there is
    # none yet, and that is no failure.
    sent_through_sns(4)
    result = run("verify_aws")
    assert result.error is None, result.out
    assert flowing(result.out).startswith("– CloudWatch logs flowing: no SMS sent through SNS")
    assert "those of the last 5 minutes are not judged" in flowing(result.out)


def test_a_send_older_than_the_settling_minutes_is_judged(provisioned):
    sent_through_sns(2)  # just now: not judged
    sent_through_sns_ago(1, timedelta(minutes=6))
    line = flowing(run("verify_aws").out)
    assert line.startswith("✗ CloudWatch logs flowing: 1 SMS sent through SNS in the last day")
