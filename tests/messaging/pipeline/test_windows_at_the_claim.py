"""Quiet hours and pauses where a broadcast message is claimed: held, skipped, released,
and still one statement per claim."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging.broadcasts import states, waves
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbound import bulk_send, dispatch, statements
from messaging.providers.base import ErrorKind, ProviderError
from smsbot import outbox
from smsbot.models import OutboxTask
from subscribers import delivery_window
from subscribers.models import Subscriber
from tests.messaging.pipeline.conftest import opted_in
from tests.messaging.pipeline.test_bulk_send import queued_broadcast
from tests.messaging.pipeline.test_dispatch import queued

pytestmark = pytest.mark.django_db(transaction=True)

# Friday 15 January 2027 23:00 in Chicago (CST): inside quiet hours there.
NIGHT = datetime(2027, 1, 16, 5, 0, tzinfo=UTC)
MORNING = datetime(2027, 1, 16, 14, 0, tzinfo=UTC)  # 08:00 CST, when they end
NOON = datetime(2027, 1, 16, 18, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def quiet(settings):  # type: ignore[no-untyped-def]
    settings.QUIET_HOURS = "21:00-08:00"


def loaded(message: Message) -> Message:
    return dispatch.loaded(Message.objects.filter(pk=message.pk)).get()


def test_a_claim_is_still_one_statement_with_pause_and_quiet_hours_checked(recording, clock):
    clock.set(NOON)
    (sub,) = opted_in(1)
    message = loaded(queued(sub))
    with CaptureQueriesContext(connection) as queries:
        assert dispatch.prepare(message) is None  # claimed: it may go to the provider
    assert len(queries) == 1 and queries[0]["sql"].startswith("UPDATE")


def test_the_claim_statement_refuses_a_paused_subscriber_and_another_zone(recording, clock):
    clock.set(NOON)
    (sub,) = opted_in(1)
    delivery_window.pause(sub, date(2027, 1, 20), "admin", {"admin_user": "ops"})
    message = queued(sub)
    assert not statements.claim_sendable(message.pk, NOON, "America/Chicago")
    resumed = delivery_window.resume(sub, "admin", {"admin_user": "ops"}).subscriber
    assert not statements.claim_sendable(message.pk, NOON, "Pacific/Honolulu")
    assert statements.claim_sendable(message.pk, NOON, resumed.timezone)


def test_a_paused_subscribers_message_is_skipped_with_the_restart_date(recording, clock):
    clock.set(NOON)
    (sub,) = opted_in(1)
    message = queued(sub)
    delivery_window.pause(sub, date(2027, 1, 20), "sms_keyword", {"text": "PAUSE"})
    assert dispatch.send(message.pk).status == MessageStatus.SKIPPED
    message.refresh_from_db()
    assert message.error_message == "subscriber paused: messages start again on 2027-01-20"
    assert recording.SENT == []


def test_a_retry_that_falls_in_quiet_hours_is_held_until_they_end(recording, clock):
    clock.set(NOON)
    (sub,) = opted_in(1)
    message = queued(sub)
    recording.FAILURES[sub.phone] = [ProviderError(ErrorKind.RETRYABLE, "20429", "slow down")]
    assert dispatch.send(message.pk).status == "retry"
    clock.set(NIGHT)  # the retry comes round at night
    Message.objects.filter(pk=message.pk).update(next_attempt_at=NIGHT - timedelta(seconds=1))
    assert dispatch.send(message.pk).status == dispatch.QUIET_HOURS
    message.refresh_from_db()
    assert (message.status, message.next_attempt_at, message.attempts) == (
        MessageStatus.QUEUED, MORNING, 1,
    )  # fmt: skip
    assert dispatch.send(message.pk).status == "early"  # not before the morning
    assert len(recording.SENT) == 1  # the first attempt only


def test_replies_are_exempt_from_quiet_hours(recording, clock):
    clock.set(NIGHT)
    (sub,) = opted_in(1)
    reply = queued(sub, kind=MessageKind.REPLY)
    assert dispatch.send(reply.pk).status == MessageStatus.SENT


def test_a_batch_resumed_at_night_holds_its_messages_in_one_statement(
    recording, clock, monkeypatch
):
    clock.set(NIGHT)
    messages = queued_broadcast(5)
    Subscriber.objects.filter(pk=messages[0].subscriber_id).update(timezone="Pacific/Honolulu")
    broadcast = messages[0].broadcast
    states.pause(broadcast, "by ops")
    with CaptureQueriesContext(connection) as queries:
        states.resume(broadcast)
        tally = bulk_send.send_batch([m.pk for m in messages])
    assert tally == {dispatch.QUIET_HOURS: 4, MessageStatus.SENT: 1}  # 19:00 in Honolulu
    holds = [q for q in queries if 'SET "next_attempt_at"' in q["sql"]]
    assert len(holds) == 1
    held = Message.objects.filter(status=MessageStatus.QUEUED)
    assert set(held.values_list("next_attempt_at", flat=True)) == {MORNING}

    # Keep what the release queues, instead of publishing it to no worker.
    monkeypatch.setattr(outbox, "publish", lambda item: True)
    clock.set(MORNING - timedelta(minutes=1))
    assert waves.release_held(MORNING - timedelta(minutes=1)) == 0
    clock.set(MORNING)
    assert waves.release_held(MORNING) == 4
    assert waves.release_held(MORNING + timedelta(minutes=1)) == 0  # once
    task = OutboxTask.objects.get(task_name="messaging.queue_sends")
    assert sorted(task.args[0]) == sorted(held.values_list("id", flat=True))
    assert bulk_send.send_batch(task.args[0]) == {MessageStatus.SENT: 4}


def test_a_zone_changed_before_the_claim_is_read_again_and_holds(recording, clock):
    clock.set(NOON)  # noon in Chicago, 03:00 next day in Sydney
    (sub,) = opted_in(1)
    message = loaded(queued(sub))  # read with America/Chicago
    Subscriber.objects.filter(pk=sub.pk).update(timezone="Australia/Sydney")
    assert dispatch.prepare(message).status == dispatch.QUIET_HOURS
    message.refresh_from_db()
    sydney_morning = datetime(2027, 1, 16, 21, 0, tzinfo=UTC)  # 08:00 AEDT on the 17th
    assert (message.status, message.attempts, message.next_attempt_at) == (
        MessageStatus.QUEUED, 0, sydney_morning,
    )  # fmt: skip
    assert recording.SENT == []
