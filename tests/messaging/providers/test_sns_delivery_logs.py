"""SNS delivery status and prices from CloudWatch Logs: lines written in AWS's format into
moto's log groups, read back over HTTP by fetch_sns_delivery and the periodic task."""

import io
import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from celery.signals import task_postrun
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging import task_names
from messaging.billing import build
from messaging.models import DeliveryEvent, DeliveryLogCursor, Message, MessageStatus
from messaging.outbound import dispatch
from messaging.providers.sns import delivery_logs
from smsbot.aws import account_id as aws_account_id
from smsbot.aws import client
from smsbot.celery import REPLIES_QUEUE, app
from subscribers.consent import change
from subscribers.models import Subscriber
from tests.fakes.faulty_proxy import FaultyProxy
from tests.fakes.sns_delivery_logs import SnsDeliveryLogs, insert_sent_sns_messages

PHONE = "+13125550123"
OTHER = "+13125550124"
ACCOUNT = "123456789012"
SUCCESS_GROUP = f"sns/us-east-1/{ACCOUNT}/DirectPublishToPhoneNumber"
FAILURE_GROUP = f"{SUCCESS_GROUP}/Failure"


@pytest.fixture
def logs(aws, settings) -> SnsDeliveryLogs:
    settings.SMS_PROVIDER = "sns"
    settings.AWS_REGION = "us-east-1"
    return SnsDeliveryLogs(client("logs"), "us-east-1", ACCOUNT)


def sent_message(phone: str = PHONE, provider_id: str | None = None, **fields) -> Message:
    """An SNS message as dispatch leaves it: sent, with its Publish MessageId."""
    subscriber = (
        Subscriber.objects.filter(phone=phone).first()
        or change(phone, "opted_in", "import", {"file": "test.csv"}).subscriber
    )
    message = build.outbound(
        kind="broadcast", channel="sms", provider="sns", phone=phone, body="Daily word",
        subscriber=subscriber, status=MessageStatus.SENT,
        provider_message_id=provider_id or f"{phone[-4:]}-{Message.objects.count()}-0000-sns",
        sent_at=timezone.now(), **fields,
    )  # fmt: skip
    message.save()
    return message


def fetch(*args: str) -> str:
    out = io.StringIO()
    call_command("fetch_sns_delivery", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_an_sns_send_then_its_logged_delivery_shows_delivered_at_its_actual_price(
    logs, admin_client, settings
):
    """The issue's end-to-end: the real SNS provider module against moto, then the line."""
    settings.SNS_CHECK_OPT_OUT = True
    subscriber = change(PHONE, "opted_in", "web_form", {"form": "test"}).subscriber
    message = build.outbound(
        kind="reply", channel="sms", provider="sns", phone=PHONE, body="Your daily word",
        subscriber=subscriber, status=MessageStatus.QUEUED,
    )  # fmt: skip
    message.save()
    assert dispatch.send(message.pk).status == MessageStatus.SENT
    message.refresh_from_db()
    assert message.price_actual is None and message.price_estimated == Decimal("0.00645")

    logs.write(logs.success(message.provider_message_id, PHONE, price="0.00581"))
    out = fetch()

    assert f"{SUCCESS_GROUP}: 1 new lines: 1 applied" in out
    assert f"{FAILURE_GROUP}: not created yet" in out
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED and message.delivered_at
    assert message.price_actual == Decimal("0.00581") and message.price_unit == "USD"
    event = message.delivery_events.get()
    assert event.payload["delivery"]["phoneCarrier"] == "Example Wireless"
    assert event.payload["delivery"]["dwellTimeMsUntilDeviceAck"] == 1344
    assert event.payload["delivery"]["destination"] == "+1******0123"  # masked when kept

    page = admin_client.get(f"/admin/messaging/message/{message.pk}/change/").content.decode()
    assert "Estimated 0.00645, actual 0.00581 USD" in page
    report = admin_client.get("/admin/messaging/message/costs/").content.decode()
    assert "0.0058" in report and "<td>actual</td>" in report
    home = admin_client.get("/admin/").content.decode()
    assert "$0.0058" in home


@pytest.mark.django_db
def test_a_failure_line_records_the_reason_and_what_it_does_to_the_number(logs):
    opted_out = sent_message(PHONE)
    unreachable = sent_message(OTHER)
    # Opted in here long enough ago that no START is still on its way to AWS's list.
    Subscriber.objects.update(opted_in_at=timezone.now() - timedelta(days=40))
    logs.write(
        [
            logs.failure(opted_out.provider_message_id, PHONE, "Phone number is opted out"),
            logs.failure(
                unreachable.provider_message_id, OTHER, "Phone is currently unreachable/unavailable"
            ),
        ]
    )
    fetch()

    opted_out.refresh_from_db()
    assert (opted_out.status, opted_out.error_code) == ("undelivered", "sns:OptedOut")
    assert opted_out.error_message == "Phone number is opted out"
    assert opted_out.price_actual == Decimal("0.00645")  # SNS charges failed attempts too
    # AWS's list may lag a START: the number is held for review, consent unchanged
    # (DESIGN invariant 11).
    subscriber = Subscriber.objects.get(phone=PHONE)
    assert subscriber.consent_status == "opted_in" and subscriber.provider_opt_out_at
    assert "AWS's SMS opt-out list" in subscriber.provider_opt_out_reason
    assert not subscriber.consent_events.filter(source="provider").exists()
    review = subscriber.events.get(kind="aws_opt_out")
    assert (review.before, review.after) == ("opted in here", "needs review")
    unreachable.refresh_from_db()
    assert unreachable.error_code == "sns:Unreachable"
    assert Subscriber.objects.get(phone=OTHER).consent_status == "opted_in"


@pytest.mark.django_db
def test_status_only_moves_forward(logs):
    message = sent_message()
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.DELIVERED)
    logs.write(logs.failure(message.provider_message_id, PHONE))
    fetch()
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


@pytest.mark.django_db
def test_duplicate_lines_and_a_second_run_apply_nothing_twice(logs):
    message, newer = sent_message(PHONE), sent_message(OTHER)
    line = logs.success(message.provider_message_id, PHONE)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    logs.write([line, line], at=an_hour_ago)  # SNS wrote it twice: two events, one report
    logs.write(logs.success(newer.provider_message_id, OTHER))
    first = fetch()
    assert f"{SUCCESS_GROUP}: 3 new lines: 2 applied, 1 already applied" in first
    assert f"{SUCCESS_GROUP}: 0 new lines" in fetch()
    # Re-read from before them: the lines are read again and recognised as applied.
    again = fetch("--since", (an_hour_ago - timedelta(minutes=1)).isoformat())
    assert f"{SUCCESS_GROUP}: 2 new lines: 0 applied, 2 already applied" in again
    assert DeliveryEvent.objects.count() == 2


@pytest.mark.django_db
def test_a_line_that_becomes_searchable_late_is_not_missed(logs):
    early, late = sent_message(PHONE), sent_message(OTHER)
    now = datetime.now(UTC)
    logs.write(logs.success(early.provider_message_id, PHONE), at=now, stream="a")
    fetch()
    # Written after the cursor passed `now`, with an event time two minutes before it.
    logs.write(logs.success(late.provider_message_id, OTHER), at=now - timedelta(minutes=2),
               stream="b")  # fmt: skip
    assert f"{SUCCESS_GROUP}: 1 new lines: 1 applied" in fetch()
    late.refresh_from_db()
    assert late.status == MessageStatus.DELIVERED


@pytest.mark.django_db
def test_out_of_order_lines_across_streams_are_all_applied(logs):
    messages = [sent_message(f"+131255501{n:02d}") for n in range(6)]
    now = datetime.now(UTC)
    # Three streams, each in order, the event times interleaved.
    for offset, stream in enumerate(("x", "y", "z")):
        lines = [logs.success(m.provider_message_id, m.phone) for m in messages[offset::3]]
        logs.write(lines, at=now - timedelta(seconds=30 - offset), spacing=timedelta(seconds=3),
                   stream=stream)  # fmt: skip
    assert "6 new lines: 6 applied" in fetch()
    assert not Message.objects.exclude(status=MessageStatus.DELIVERED).exists()


@pytest.mark.django_db
def test_a_line_72_hours_after_its_send_applies_and_the_first_run_looks_back_72_hours(logs):
    three_days_ago = timezone.now() - timedelta(hours=72)
    old = sent_message(PHONE)
    Message.objects.filter(pk=old.pk).update(created_at=three_days_ago, sent_at=three_days_ago)
    recent, too_old = sent_message(OTHER), sent_message("+13125550125")
    now = datetime.now(UTC)
    logs.write(logs.success(too_old.provider_message_id, too_old.phone),
               at=now - timedelta(hours=73))  # fmt: skip
    logs.write(logs.success(recent.provider_message_id, OTHER), at=now - timedelta(hours=71))
    # The carrier answered 72 hours after the send: the line is written now.
    logs.write(logs.success(old.provider_message_id, PHONE, published=three_days_ago), at=now)

    assert f"{SUCCESS_GROUP}: 2 new lines: 2 applied" in fetch()
    old.refresh_from_db(), recent.refresh_from_db(), too_old.refresh_from_db()
    assert old.status == recent.status == MessageStatus.DELIVERED
    assert too_old.status == MessageStatus.SENT  # before the look-back: --since reaches it
    assert "1 applied" in fetch("--since", (now - timedelta(hours=80)).isoformat())


@pytest.mark.django_db
def test_malformed_lines_and_lines_of_other_senders_are_counted_and_skipped(logs, caplog):
    message = sent_message()
    logs.write(
        [
            "not json at all",
            json.dumps(["a", "list"]),
            json.dumps({"notification": {}, "status": "SUCCESS"}),  # no messageId
            json.dumps({"notification": {"messageId": "m-1"}, "status": "MAYBE"}),
            logs.success("not-a-portal-message", OTHER),  # e.g. verify_aws's test SMS
            logs.success(message.provider_message_id, PHONE),
        ],
        failures=False,
    )
    out = fetch()
    assert (
        f"{SUCCESS_GROUP}: 6 new lines: 1 applied, 0 already applied, "
        "1 not sent by the portal, 4 malformed" in out
    )
    assert DeliveryEvent.objects.count() == 1  # nothing kept for a stranger's SMS
    cursor = DeliveryLogCursor.objects.get(log_group=SUCCESS_GROUP)
    assert (cursor.applied, cursor.not_ours, cursor.malformed) == (1, 1, 4)
    assert "4 line(s) not in SNS's delivery log format" in caplog.text
    assert "0 new lines" in fetch()  # counted once, not again on every run


@pytest.mark.django_db
def test_throttling_is_retried_with_back_off(logs, aws, settings):
    message = sent_message()
    logs.write(logs.success(message.provider_message_id, PHONE))
    throttled = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
    with FaultyProxy(aws) as proxy:
        settings.AWS_ENDPOINT_URL = proxy.url
        aws_account_id()  # the account lookup goes first, unthrottled
        proxy.fail_next(400, throttled, times=2)
        assert "1 applied" in fetch()
        reads = [r for r in proxy.requests if '"startTime"' in r.body]
    # Two refusals and the answer for the first group, one answer for the second.
    assert len(reads) == 4
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


@pytest.mark.django_db
def test_cloudwatch_unreachable_is_one_sentence_and_a_non_zero_exit(logs, settings):
    from tests.conftest import free_port

    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CommandError, match="CloudWatch Logs cannot be read"):
        fetch()


@pytest.mark.django_db
def test_a_bad_since_is_refused_with_a_reason(logs):
    with pytest.raises(CommandError, match="--since must be an ISO time"):
        fetch("--since", "yesterday")


@pytest.mark.slow
@pytest.mark.django_db
def test_a_50000_line_backlog_is_applied_a_page_at_a_time_in_bulk(logs):
    count = 50_000
    subscriber = change(PHONE, "opted_in", "import", {"file": "test.csv"}).subscriber
    insert_sent_sns_messages([f"bk-{n}" for n in range(count)], subscriber)
    lines = [logs.success(f"bk-{n}", PHONE, price="0.00600") for n in range(count)]
    logs.write(
        lines, at=datetime.now(UTC) - timedelta(minutes=50), spacing=timedelta(milliseconds=50)
    )

    with CaptureQueriesContext(connection) as queries:
        result = delivery_logs.fetch()
    success = result.groups[0]
    assert (success.lines, success.applied, success.repeated) == (count, count, 0)
    assert Message.objects.filter(status=MessageStatus.DELIVERED).count() == count
    assert DeliveryEvent.objects.count() == count
    # Five pages of 10,000, each in a few bulk statements (SQLite's limit of 999
    # parameters a statement splits them most): nowhere near one statement per line.
    assert len(queries) < count / 20, len(queries)


def test_the_periodic_read_runs_every_minute_on_the_replies_queue():
    app.loader.import_default_modules()
    [entry] = [
        e for e in app.conf.beat_schedule.values() if e["task"] == task_names.FETCH_SNS_DELIVERY
    ]
    assert entry["schedule"] == 60.0
    assert entry["options"]["queue"] == REPLIES_QUEUE


@pytest.mark.django_db
def test_the_periodic_read_is_skipped_where_sns_is_not_used(settings):
    settings.SMS_PROVIDER = "twilio"
    assert not delivery_logs.wanted()
    message = sent_message()
    assert delivery_logs.wanted()  # an SNS send in the last 72 hours: its lines may come
    Message.objects.filter(pk=message.pk).update(sent_at=timezone.now() - timedelta(days=4))
    assert not delivery_logs.wanted()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_applies_the_lines_when_beat_fires_the_task(logs, celery_worker):
    message = sent_message()
    logs.write(logs.success(message.provider_message_id, PHONE, price="0.00700"))
    done = threading.Event()

    def finished(sender=None, **kwargs):
        if sender is not None and sender.name == task_names.FETCH_SNS_DELIVERY:
            done.set()

    task_postrun.connect(finished, weak=False)
    try:
        app.send_task(task_names.FETCH_SNS_DELIVERY, queue=REPLIES_QUEUE)
        assert done.wait(30), "the worker did not run the task"
    finally:
        task_postrun.disconnect(finished)
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.price_actual == Decimal("0.00700")
