"""CloudWatch metrics: batched PutMetricData to moto's server, flushed by a real worker."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from messaging.outbound import metrics
from smsbot import aws as aws_clients
from smsbot import metrics as buffered
from smsbot.celery import app
from tests.conftest import free_port


@app.task(name="tests.record_a_sent_message")
def record_a_sent_message() -> None:
    metrics.message_sent("sns", "sms", Decimal("0.00645"))


@pytest.fixture(autouse=True)
def empty_buffer() -> Iterator[None]:
    buffered._buffer.take()
    yield
    buffered._buffer.take()


def statistics(name: str, **dimensions: str) -> dict:
    now = datetime.now(UTC)
    answer = aws_clients.client("cloudwatch").get_metric_statistics(
        Namespace="SMSBot",
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=10),
        Period=3600,
        Statistics=["Sum", "SampleCount"],
    )
    points = answer["Datapoints"]
    return {
        "Sum": sum(p["Sum"] for p in points),
        "SampleCount": sum(p["SampleCount"] for p in points),
    }


def test_nothing_is_buffered_when_aws_is_not_configured(settings):
    settings.CLOUDWATCH_METRICS_ENABLED = False
    settings.SMS_PROVIDER = "console"
    settings.AWS_ENDPOINT_URL = ""

    metrics.message_sent("console", "sms", Decimal("0"))

    assert buffered.flush() == 0


@pytest.mark.parametrize(
    ("provider", "endpoint", "flag"), [("sns", "", False), ("console", "http://x", False),
                                       ("twilio", "", True)]
)  # fmt: skip
def test_aws_counts_as_configured(settings, provider, endpoint, flag):
    settings.SMS_PROVIDER, settings.AWS_ENDPOINT_URL = provider, endpoint
    settings.CLOUDWATCH_METRICS_ENABLED = flag
    assert buffered.enabled()


def test_a_full_batch_goes_in_one_call_with_statistic_sets(aws, settings):
    settings.CLOUDWATCH_METRICS_ENABLED = True
    # Each send is 4 data points (count and spend, per provider/channel and in total),
    # each failure 2: the twelfth point fills the batch.
    settings.CLOUDWATCH_METRICS_BATCH = 12

    metrics.message_sent("sns", "sms", Decimal("0.00645"))
    metrics.message_sent("sns", "sms", Decimal("0.01290"))
    assert statistics("MessagesSent", Provider="sns", Channel="sms")["SampleCount"] == 0
    metrics.message_failed("sns", "sms")
    metrics.message_failed("sns", "sms")  # the twelfth data point: the batch goes

    assert statistics("MessagesSent", Provider="sns", Channel="sms") == {
        "Sum": 2.0,
        "SampleCount": 2.0,
    }
    assert statistics("SpendUSD", Provider="sns", Channel="sms")["Sum"] == pytest.approx(0.01935)
    assert statistics("MessagesFailed", Provider="sns", Channel="sms")["Sum"] == 2.0
    # Also as undimensioned totals, which the provisioned dashboard and alarm watch.
    listed = aws_clients.client("cloudwatch").list_metrics(Namespace="SMSBot")["Metrics"]
    totals = {m["MetricName"] for m in listed if not m.get("Dimensions")}
    assert totals == {"MessagesSent", "MessagesFailed", "SpendUSD"}
    assert buffered.flush() == 0  # nothing left over


def test_a_worker_flushes_at_the_end_of_a_task(aws, settings, celery_worker):
    settings.CLOUDWATCH_METRICS_ENABLED = True
    settings.CLOUDWATCH_METRICS_BATCH = 1000
    settings.CLOUDWATCH_METRICS_FLUSH_SECONDS = 0

    record_a_sent_message.delay()

    # With no flush interval the first point goes as the second is recorded and the second
    # at the task's end: wait for both, or the read may fall between the two calls.
    deadline = time.monotonic() + 15
    while any(
        statistics(name, Provider="sns", Channel="sms")["SampleCount"] < 1
        for name in ("MessagesSent", "SpendUSD")
    ):
        assert time.monotonic() < deadline, "the worker did not publish the metric"
        time.sleep(0.2)
    assert statistics("SpendUSD", Provider="sns", Channel="sms")["Sum"] == pytest.approx(0.00645)


def test_cloudwatch_down_drops_the_batch_without_raising(settings, caplog):
    settings.CLOUDWATCH_METRICS_ENABLED = True
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    metrics.message_failed("twilio", "whatsapp")

    assert buffered.flush() == 0
    assert "CloudWatch metrics dropped" in caplog.text
