"""dispatch.send(): the claim, consent under the claim, and every provider answer."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from messaging.billing import budget
from messaging.broadcasts import progress
from messaging.models import (
    Broadcast,
    BroadcastState,
    Message,
    MessageKind,
    MessageStatus,
    ProviderCall,
)
from messaging.outbound import config_errors, dispatch
from messaging.providers.base import ErrorKind, ProviderError
from subscribers import consent
from subscribers.models import ConsentEvent, Subscriber
from tests.messaging.pipeline.conftest import opted_in

pytestmark = pytest.mark.django_db(transaction=True)


def queued(subscriber: Subscriber, kind: str = MessageKind.BROADCAST, **fields) -> Message:
    broadcast = fields.pop("broadcast", None)
    if kind == MessageKind.BROADCAST and broadcast is None:
        broadcast = Broadcast.objects.create(
            idempotency_key=f"t:{subscriber.pk}:{Message.objects.count()}",
            name="t",
            text="Hello",
            state=BroadcastState.SENDING,
        )
    return Message.objects.create(
        direction="outbound",
        kind=kind,
        channel=subscriber.channel,
        provider=fields.pop("provider", "recording"),
        phone=subscriber.phone,
        subscriber=subscriber,
        broadcast=broadcast,
        body=fields.pop("body", "Hello"),
        status=MessageStatus.QUEUED,
        **fields,
    )


def test_a_sent_message_records_id_time_price_and_a_redacted_call(recording):
    recording.PRICE = Decimal("0.00790")
    (sub,) = opted_in(1)
    msg = queued(sub)
    assert dispatch.send(msg.pk).status == MessageStatus.SENT
    msg.refresh_from_db()
    assert msg.status == MessageStatus.SENT
    assert msg.provider_message_id.startswith("rec-")
    assert msg.sent_at is not None and msg.attempts == 1
    assert msg.price_actual == Decimal("0.00790")
    call = ProviderCall.objects.get(message=msg)
    assert call.outcome == "sent"
    assert call.request["to"] == "+1******0100"  # masked again before storing
    assert [msg.pk] == recording.SENT


def test_concurrent_workers_claim_a_message_once_and_send_it_once(recording):
    (sub,) = opted_in(1)
    msg = queued(sub)
    barrier = threading.Barrier(6)
    outcomes = []

    def worker() -> None:
        barrier.wait()
        try:
            outcomes.append(dispatch.send(msg.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [msg.pk] == recording.SENT
    assert outcomes.count(MessageStatus.SENT) == 1
    assert Message.objects.get(pk=msg.pk).attempts == 1


def test_consent_is_read_again_under_the_claim(recording):
    (sub,) = opted_in(1)
    msg = queued(sub)
    consent.change(sub.phone, "opted_out", "sms_keyword", {"body": "STOP"})
    assert dispatch.send(msg.pk).status == MessageStatus.SKIPPED
    msg.refresh_from_db()
    assert msg.status == MessageStatus.SKIPPED and "opted_out" in msg.error_message
    assert recording.SENT == []


def test_stop_and_help_confirmations_go_out_whatever_the_consent_and_budget(recording, settings):
    settings.SMS_MONTHLY_SPEND_LIMIT_USD = Decimal("0")
    (sub,) = opted_in(1)
    consent.change(sub.phone, "opted_out", "sms_keyword", {"body": "STOP"})
    msg = queued(sub, kind=MessageKind.COMPLIANCE, price_estimated=Decimal("0.01"))
    assert dispatch.send(msg.pk).status == MessageStatus.SENT
    assert [msg.pk] == recording.SENT


def test_a_double_opt_in_question_and_a_reply_reach_a_pending_number(recording):
    # The inbound pipeline answers a pending number only once its confirmation went
    # (reply_limits); a broadcast never goes to it.
    sub = consent.change("+13125550150", "pending", "web_form", {"form": "x"}).subscriber
    confirm = queued(sub, kind=MessageKind.CONFIRMATION)
    reply = queued(sub, kind=MessageKind.REPLY)
    daily = queued(sub)
    assert dispatch.send(confirm.pk).status == MessageStatus.SENT
    assert dispatch.send(reply.pk).status == MessageStatus.SENT
    assert dispatch.send(daily.pk).status == MessageStatus.SKIPPED
    assert list(recording.SENT) == [confirm.pk, reply.pk]


def test_past_the_spend_limit_a_reply_is_skipped_and_a_stop_answer_goes(recording, settings):
    settings.SMS_MONTHLY_SPEND_LIMIT_USD = Decimal("0")
    (sub,) = opted_in(1)
    reply = queued(sub, kind=MessageKind.REPLY, price_estimated=Decimal("0.0079"))
    answer = queued(sub, kind=MessageKind.COMPLIANCE, price_estimated=Decimal("0.0079"))
    assert dispatch.send(reply.pk).status == MessageStatus.SKIPPED
    assert Message.objects.get(pk=reply.pk).error_message == budget.OVER_LIMIT
    assert dispatch.send(answer.pk).status == MessageStatus.SENT
    assert list(recording.SENT) == [answer.pk]


def test_undeliverable_numbers_are_skipped(recording):
    (sub,) = opted_in(1)
    Subscriber.objects.filter(pk=sub.pk).update(undeliverable=True, undeliverable_reason="21211")
    msg = queued(sub)
    assert dispatch.send(msg.pk).status == MessageStatus.SKIPPED
    assert recording.SENT == []


def test_paused_broadcast_holds_its_messages_and_cancelled_skips_them(recording):
    (a, b) = opted_in(2)
    msg_a, msg_b = queued(a), queued(b)
    Broadcast.objects.filter(pk=msg_a.broadcast_id).update(state=BroadcastState.PAUSED)
    Broadcast.objects.filter(pk=msg_b.broadcast_id).update(state=BroadcastState.CANCELLED)
    assert dispatch.send(msg_a.pk).status == "paused"
    assert dispatch.send(msg_b.pk).status == "cancelled"
    assert Message.objects.get(pk=msg_a.pk).status == MessageStatus.QUEUED
    assert Message.objects.get(pk=msg_b.pk).status == MessageStatus.SKIPPED
    assert recording.SENT == []


def error(kind: ErrorKind, code: str) -> ProviderError:
    return ProviderError(kind, code, f"provider says {code}", http_status=400)


def test_retryable_errors_back_off_then_fail_at_the_attempt_limit(recording, settings):
    settings.SEND_MAX_ATTEMPTS = 3
    (sub,) = opted_in(1)
    recording.FAILURES[sub.phone] = [error(ErrorKind.RETRYABLE, "20429") for _ in range(3)]
    msg = queued(sub)
    first = dispatch.send(msg.pk)
    assert first.status == "retry" and 0.1 <= first.retry_in <= 0.2
    msg.refresh_from_db()
    assert msg.status == MessageStatus.QUEUED and msg.next_attempt_at is not None
    assert msg.error_code == "20429"
    # Too early: nothing happens yet.
    assert dispatch.send(msg.pk).status == "early"
    Message.objects.filter(pk=msg.pk).update(next_attempt_at=None)
    assert dispatch.send(msg.pk).status == "retry"
    Message.objects.filter(pk=msg.pk).update(next_attempt_at=None)
    assert dispatch.send(msg.pk).status == MessageStatus.FAILED
    assert Message.objects.get(pk=msg.pk).attempts == 3
    assert len(recording.SENT) == 3


def test_backoff_grows_exponentially_with_jitter(settings):
    settings.SEND_RETRY_BASE_SECONDS = 10
    settings.SEND_RETRY_MAX_SECONDS = 100
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (5, 100), (9, 100)]:
        delays = {dispatch.backoff(attempt) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1


def test_an_ambiguous_answer_is_flagged_and_never_retried(recording):
    (sub,) = opted_in(1)
    recording.FAILURES[sub.phone] = [error(ErrorKind.AMBIGUOUS, "20500")]
    msg = queued(sub)
    outcome = dispatch.send(msg.pk)
    assert outcome.status == MessageStatus.NEEDS_REVIEW and outcome.retry_in is None
    assert dispatch.send(msg.pk).status == "not-queued"
    assert [msg.pk] == recording.SENT


def test_21610_opts_the_number_out_through_consent(recording):
    (sub,) = opted_in(1)
    recording.FAILURES[sub.phone] = [error(ErrorKind.PERMANENT, "21610")]
    msg = queued(sub)
    assert dispatch.send(msg.pk).status == MessageStatus.FAILED
    sub.refresh_from_db()
    assert sub.consent_status == "opted_out" and sub.consent_source == "provider"
    event = ConsentEvent.objects.filter(subscriber=sub).first()
    assert event.source == "provider"
    assert event.evidence["error_code"] == "21610" and event.evidence["message_id"] == msg.pk


@pytest.mark.parametrize("code", ["21211", "21614", "30005", "30006"])
def test_unknown_numbers_become_undeliverable_and_are_skipped_later(recording, code):
    (sub,) = opted_in(1)
    recording.FAILURES[sub.phone] = [error(ErrorKind.PERMANENT, code)]
    assert dispatch.send(queued(sub).pk).status == MessageStatus.FAILED
    sub.refresh_from_db()
    assert sub.undeliverable and code in sub.undeliverable_reason
    assert dispatch.send(queued(sub).pk).status == MessageStatus.SKIPPED
    assert len(recording.SENT) == 1


def test_63016_is_resent_once_as_the_whatsapp_template(recording):
    (sub,) = opted_in(1, channel="whatsapp")
    broadcast = Broadcast.objects.create(
        idempotency_key="wa", name="wa", text="Hi", state=BroadcastState.SENDING,
        whatsapp_content_sid="HX123", whatsapp_content_variables={"1": "Ann"},
    )  # fmt: skip
    recording.FAILURES[sub.phone] = [error(ErrorKind.PERMANENT, "63016")] * 2
    msg = queued(sub, broadcast=broadcast)
    outcome = dispatch.send(msg.pk)
    assert outcome.status == "resend-as-template" and outcome.retry_in == 0
    msg.refresh_from_db()
    assert msg.status == MessageStatus.QUEUED and msg.body == ""
    assert msg.content_sid == "HX123" and msg.content_variables == {"1": "Ann"}
    # The template attempt fails too: no third try.
    assert dispatch.send(msg.pk).status == MessageStatus.FAILED
    assert Message.objects.get(pk=msg.pk).attempts == 2


def test_configuration_errors_fail_pause_the_broadcast_and_raise_a_banner(recording):
    (sub,) = opted_in(1)
    recording.FAILURES[sub.phone] = [error(ErrorKind.CONFIG, "20003")]
    msg = queued(sub)
    assert dispatch.send(msg.pk).status == MessageStatus.FAILED
    problem = config_errors.current()
    assert problem["code"] == "20003" and "credentials" in problem["meaning"]
    broadcast = Broadcast.objects.get(pk=msg.broadcast_id)
    assert broadcast.state == BroadcastState.PAUSED
    assert "20003" in broadcast.pause_reason


def test_an_unexpected_exception_is_treated_as_possibly_sent(recording):
    (sub,) = opted_in(1)

    def boom(message):
        raise RuntimeError("socket closed after write")

    recording.HOOKS.append(boom)
    msg = queued(sub)
    assert dispatch.send(msg.pk).status == MessageStatus.NEEDS_REVIEW
    assert "socket closed" in Message.objects.get(pk=msg.pk).error_message


def test_progress_counts_and_done(recording, settings):
    subs = opted_in(3)
    broadcast = Broadcast.objects.create(
        idempotency_key="p", name="p", text="Hi", state=BroadcastState.SENDING, fanout_done=True
    )
    messages = [queued(s, broadcast=broadcast) for s in subs]
    consent.change(subs[2].phone, "opted_out", "sms_keyword", {"body": "STOP"})
    for m in messages:
        dispatch.send(m.pk)
    progress.refresh_progress(broadcast.pk)
    broadcast.refresh_from_db()
    assert (broadcast.total, broadcast.sent, broadcast.skipped) == (3, 2, 1)
    assert broadcast.state == BroadcastState.DONE and broadcast.finished_at


def test_sends_and_final_failures_are_counted_for_cloudwatch(recording, aws, settings):
    from smsbot import metrics
    from smsbot.aws import client

    settings.CLOUDWATCH_METRICS_ENABLED = True
    settings.CLOUDWATCH_METRICS_BATCH = 1000
    recording.PRICE = Decimal("0.00790")
    ok, bad = opted_in(2)
    recording.FAILURES[bad.phone] = [ProviderError(ErrorKind.PERMANENT, "21211", "invalid To")]
    assert dispatch.send(queued(ok).pk).status == MessageStatus.SENT
    assert dispatch.send(queued(bad).pk).status == MessageStatus.FAILED
    assert metrics.flush() > 0

    listed = client("cloudwatch").list_metrics(Namespace="SMSBot")["Metrics"]
    names = {(m["MetricName"], tuple(d["Value"] for d in m["Dimensions"])) for m in listed}
    assert {("MessagesSent", ()), ("SpendUSD", ()), ("MessagesFailed", ())} <= names
    assert ("MessagesFailed", ("recording", "sms")) in {(n, tuple(sorted(v))) for n, v in names}
