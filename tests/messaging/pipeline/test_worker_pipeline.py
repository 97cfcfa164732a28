"""The pipeline through a real Celery worker on the configured broker."""

from datetime import date
from decimal import Decimal

from django.core.management import call_command

from messaging.billing import budget
from messaging.models import (
    Broadcast,
    BroadcastState,
    DailyContent,
    Message,
    MessageKind,
    MessageStatus,
)
from messaging.providers.base import ErrorKind, ProviderError
from smsbot.celery import REPLIES_QUEUE, app
from subscribers import consent
from tests.messaging.pipeline.conftest import opted_in, wait_for

DAY = date(2026, 11, 23)


def finished(broadcast_key: str = f"daily:{DAY}") -> bool:
    b = Broadcast.objects.filter(idempotency_key=broadcast_key).first()
    return b is not None and b.state == BroadcastState.DONE


def test_the_daily_broadcast_reaches_every_opted_in_subscriber_once(celery_worker, recording):
    subs = opted_in(12) + opted_in(3, start=150, channel="whatsapp")
    for whatsapp in subs[12:]:  # each wrote to us today: inside WhatsApp's 24-hour window
        Message.objects.create(direction="inbound", kind="inbound", channel="whatsapp",
                               provider="twilio", phone=whatsapp.phone, body="JOIN")  # fmt: skip
    consent.change("+13125550190", "pending", "web_form", {"form": "x"})
    consent.change("+13125550191", "opted_in", "admin", {"t": 1})
    consent.change("+13125550191", "opted_out", "sms_keyword", {"body": "STOP"})
    DailyContent.objects.create(date=DAY, text="Word of the day: serendipity")

    call_command("send_daily", "--date", DAY.isoformat())
    wait_for(finished, what="the broadcast to finish")

    broadcast = Broadcast.objects.get(idempotency_key=f"daily:{DAY}")
    messages = Message.objects.filter(broadcast=broadcast)
    assert sorted(messages.values_list("subscriber_id", flat=True)) == sorted(s.pk for s in subs)
    assert set(messages.values_list("status", flat=True)) == {MessageStatus.SENT}
    # Besides the broadcast, the pending sign-up's double opt-in question goes out
    # (once the worker gets to it): nothing else reaches the provider.
    confirmations = Message.objects.filter(kind=MessageKind.CONFIRMATION, phone="+13125550190")
    broadcast_sends = [
        pk for pk in recording.SENT if pk not in set(confirmations.values_list("id", flat=True))
    ]
    assert sorted(broadcast_sends) == sorted(messages.values_list("id", flat=True))
    assert len(recording.SENT) - len(broadcast_sends) <= 1
    assert (broadcast.total, broadcast.sent, broadcast.failed, broadcast.skipped) == (15, 15, 0, 0)
    assert broadcast.fanout_done and broadcast.finished_at


def test_two_triggers_and_a_manual_run_for_one_date_make_one_broadcast(celery_worker, recording):
    subs = opted_in(5)
    DailyContent.objects.create(date=DAY, text="Once only")
    call_command("send_daily", "--date", DAY.isoformat())
    call_command("send_daily", "--date", DAY.isoformat())
    wait_for(finished, what="the broadcast to finish")
    call_command("send_daily", "--date", DAY.isoformat())
    assert Broadcast.objects.count() == 1
    assert Message.objects.count() == len(subs)
    assert len(recording.SENT) == len(subs)


def test_the_beat_task_uses_the_local_date_and_is_idempotent(celery_worker, recording, settings):
    from messaging.broadcasts import daily

    opted_in(3)
    today = daily.local_today()
    DailyContent.objects.create(date=today, text="Beat")
    for _ in range(2):  # two beat processes firing the same minute
        app.send_task("messaging.start_daily_broadcast", queue=REPLIES_QUEUE)
    wait_for(lambda: finished(f"daily:{today}"), what="the broadcast to finish")
    assert Broadcast.objects.get().idempotency_key == f"daily:{today.isoformat()}"
    assert len(recording.SENT) == 3


def test_a_stop_mid_broadcast_stops_further_sends_to_that_number(
    celery_worker, recording, settings
):
    settings.SMS_SEND_RATE = 20  # 16 at once, then one every 50 ms: the last waits > 1 s
    opted_in(40)
    stopped: list[int] = []

    def stop_arrives(message):
        # While the first message is with the provider, the last in line says STOP.
        if not stopped:
            waiting = Message.objects.filter(status=MessageStatus.QUEUED).order_by("-id").first()
            stopped.append(waiting.pk)
            consent.change(waiting.phone, "opted_out", "sms_keyword", {"body": "STOP"})

    recording.HOOKS.append(stop_arrives)
    DailyContent.objects.create(date=DAY, text="Hello")
    call_command("send_daily", "--date", DAY.isoformat())
    wait_for(finished, what="the broadcast to finish")

    message = Message.objects.get(pk=stopped[0])
    assert message.status == MessageStatus.SKIPPED
    assert message.pk not in recording.SENT
    assert len(recording.SENT) == 39
    assert Broadcast.objects.get().skipped == 1


def test_the_budget_pauses_bulk_before_the_limit_and_compliance_still_goes(
    celery_worker, recording, settings, monkeypatch
):
    from messaging.providers.registry import MODULES

    # Priced like SNS (0.00645 USD a segment), recorded by the test provider.
    monkeypatch.setitem(MODULES, "sns", recording.__name__)
    settings.SMS_PROVIDER = "sns"
    settings.SMS_MONTHLY_SPEND_LIMIT_USD = Decimal("0.05")  # room for 7 messages, not 8
    subs = opted_in(12)
    DailyContent.objects.create(date=DAY, text="Budget day")
    call_command("send_daily", "--date", DAY.isoformat())

    def paused() -> bool:
        b = Broadcast.objects.get()
        return (
            b.state == BroadcastState.PAUSED
            and not Message.objects.filter(status=MessageStatus.SENDING).exists()
        )

    wait_for(paused, what="the budget pause")
    broadcast = Broadcast.objects.get()
    assert broadcast.pause_reason == "budget"
    # Every message whose cost was reserved goes out: the pause comes after them.
    state = (budget.status(), budget.spent_in_database(), list(Message.objects.values("status")))
    assert len(recording.SENT) == 7, state
    assert budget.spent_in_database() == Decimal("0.04515")
    assert budget.spent_in_database() <= settings.SMS_MONTHLY_SPEND_LIMIT_USD
    assert Message.objects.filter(status=MessageStatus.QUEUED).count() == 5

    # A STOP confirmation still goes out, though it takes spend past the limit.
    opted_out = consent.change(subs[0].phone, "opted_out", "sms_keyword", {"body": "STOP"})
    stop_reply = Message.objects.create(
        direction="outbound", kind="compliance", channel="sms", provider="sns",
        phone=opted_out.subscriber.phone, subscriber=opted_out.subscriber,
        body="You are unsubscribed.", status=MessageStatus.QUEUED,
        price_estimated=Decimal("0.00645"),
    )  # fmt: skip
    app.send_task("messaging.send_message", args=[stop_reply.pk], queue=REPLIES_QUEUE)
    wait_for(lambda: Message.objects.get(pk=stop_reply.pk).status == MessageStatus.SENT)
    assert Message.objects.filter(broadcast=broadcast, status=MessageStatus.QUEUED).count() == 5


def test_a_retryable_error_is_retried_by_the_worker_with_a_countdown(celery_worker, recording):
    (sub,) = opted_in(1)
    recording.FAILURES[sub.phone] = [ProviderError(ErrorKind.RETRYABLE, "20429", "slow down")]
    DailyContent.objects.create(date=DAY, text="Again")
    call_command("send_daily", "--date", DAY.isoformat())
    wait_for(finished, what="the broadcast to finish")
    message = Message.objects.get()
    assert message.status == MessageStatus.SENT and message.attempts == 2
    assert [message.pk, message.pk] == recording.SENT
