"""A broadcast's test send: to an opted-in staff phone only, now, never part of the broadcast."""

from decimal import Decimal

import pytest

from messaging import task_names
from messaging.broadcasts import fanout, progress, states, testsend
from messaging.models import Broadcast, BroadcastState, Message, MessageKind, MessageStatus
from messaging.outbound import dispatch
from smsbot.celery import REPLIES_QUEUE
from smsbot.models import OutboxTask
from subscribers import consent
from subscribers.models import Subscriber
from tests.messaging.pipeline.conftest import opted_in, wait_for

pytestmark = pytest.mark.django_db
STAFF = "+13125550199"


def draft(**fields: object) -> Broadcast:
    return Broadcast.objects.create(
        idempotency_key="adhoc:t", name="Launch", text="We are live", **fields
    )


@pytest.mark.parametrize(
    ("setup", "typed", "reason"),
    [
        (None, "not a number", "“not a number”: not a phone number"),
        (None, "+1 900 555 0123", "+19005550123: premium-rate numbers cannot subscribe"),
        (None, "+1 800 555 0123", "+18005550123: toll-free numbers cannot subscribe"),
        (None, "(312) 555-0199", "+13125550199 is not a subscriber"),
        ("pending", STAFF, "is pending confirmation, not opted in"),
        ("opted_out", STAFF, "is opted out, not opted in"),
        ("undeliverable", STAFF, "is marked undeliverable (carrier says no)"),
        ("erased", STAFF, "is not a subscriber"),
        ("whatsapp", STAFF, "subscribes by WhatsApp; this broadcast goes to SMS subscribers only"),
    ],
)
def test_a_test_goes_only_to_a_number_that_opted_in(setup, typed, reason):
    if setup == "pending":
        consent.change(STAFF, "pending", "web_form", {"form": "t"})
    elif setup == "opted_out":
        opted_in(1, start=199)
        consent.change(STAFF, "opted_out", "sms_keyword", {"body": "STOP"})
    elif setup in ("undeliverable", "erased"):
        opted_in(1, start=199)
        Subscriber.objects.filter(phone=STAFF).update(
            undeliverable=setup == "undeliverable",
            undeliverable_reason="carrier says no",
            erased_at=None if setup == "undeliverable" else "2026-01-01T00:00Z",
        )
    elif setup == "whatsapp":
        opted_in(1, start=199, channel="whatsapp")
    broadcast = draft(channel="sms")
    with pytest.raises(testsend.TestRefused) as refused:
        testsend.send_test(broadcast, typed)
    assert reason in str(refused.value)
    assert not Message.objects.filter(kind=MessageKind.TEST).exists()
    assert not OutboxTask.objects.filter(task_name=task_names.SEND_MESSAGE).exists()


def test_no_test_once_the_broadcast_has_started_nor_past_the_spend_limit(settings):
    opted_in(1, start=199)
    started = draft(state=BroadcastState.SENDING)
    with pytest.raises(testsend.TestRefused, match="has started"):
        testsend.send_test(started, STAFF)
    settings.SMS_PROVIDER = "sns"
    settings.SMS_MONTHLY_SPEND_LIMIT_USD = Decimal("0.005")
    Broadcast.objects.filter(pk=started.pk).update(state=BroadcastState.DRAFT)
    started.refresh_from_db()
    with pytest.raises(testsend.TestRefused, match=r"past the 0\.005 USD limit"):
        testsend.send_test(started, STAFF)


def test_a_test_is_queued_now_on_the_replies_queue_apart_from_the_broadcast(recording):
    subscribers = opted_in(3, start=197)  # ...0197, 0198 and the staff phone ...0199
    broadcast = draft()
    message = testsend.send_test(broadcast, "(312) 555-0199")
    assert (message.kind, message.status, message.phone) == ("test", "queued", STAFF)
    assert message.test_of == broadcast and message.broadcast is None
    assert (message.body, message.segments, message.encoding) == ("We are live", 1, "GSM-7")
    queued = OutboxTask.objects.get(task_name=task_names.SEND_MESSAGE)
    assert (queued.args, queued.queue) == ([message.pk], REPLIES_QUEUE)

    assert dispatch.send(message.pk).status == MessageStatus.SENT
    assert [message.pk] == recording.SENT

    # The broadcast itself still reaches all three, the staff phone included, once each.
    states.start(broadcast)
    fanout.fan_out(broadcast.pk)
    progress.refresh_progress(broadcast.pk)
    broadcast.refresh_from_db()
    assert broadcast.total == 3
    mine = Message.objects.filter(broadcast=broadcast)
    assert sorted(mine.values_list("subscriber_id", flat=True)) == [s.pk for s in subscribers]
    assert list(broadcast.test_messages.all()) == [message]


def test_a_stop_between_queueing_and_sending_stops_the_test(recording):
    opted_in(1, start=199)
    message = testsend.send_test(draft(), STAFF)
    consent.change(STAFF, "opted_out", "sms_keyword", {"body": "STOP"})
    assert dispatch.send(message.pk).status == MessageStatus.SKIPPED
    assert recording.SENT == []


def test_the_worker_sends_a_test(celery_worker, recording):
    opted_in(1, start=199)
    message = testsend.send_test(draft(), STAFF)
    wait_for(
        lambda: Message.objects.get(pk=message.pk).status == MessageStatus.SENT,
        what="the test to be sent",
    )
    assert [message.pk] == recording.SENT
