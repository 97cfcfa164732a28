"""Broadcasts scheduled for later: beat's due check starts each once, and not before its time."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from messaging import task_names
from messaging.broadcasts import states
from messaging.models import Broadcast, BroadcastState, Message
from smsbot.celery import app
from smsbot.models import OutboxTask
from tests.messaging.pipeline.conftest import opted_in, wait_for


def draft(name: str = "Later", **fields: object) -> Broadcast:
    return Broadcast.objects.create(
        idempotency_key=f"adhoc:{name}", name=name, text="See you", **fields
    )


def fan_outs(broadcast: Broadcast) -> int:
    return OutboxTask.objects.filter(task_name=task_names.FAN_OUT, args=[broadcast.pk]).count()


@pytest.mark.django_db
def test_a_scheduled_broadcast_starts_at_its_time_once():
    broadcast = draft()
    when = timezone.now() + timedelta(minutes=30)
    assert states.schedule_for(broadcast, when)
    assert (broadcast.state, broadcast.scheduled_for) == (BroadcastState.SCHEDULED, when)
    assert not states.schedule_for(broadcast, when)  # no longer a draft

    assert states.start_due(now=when - timedelta(seconds=1)) == []
    assert fan_outs(broadcast) == 0
    assert states.start_due(now=when) == [broadcast.pk]
    assert states.start_due(now=when + timedelta(minutes=1)) == []  # the next check
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.SENDING and broadcast.started_at
    assert fan_outs(broadcast) == 1


@pytest.mark.django_db
def test_before_it_starts_it_can_go_back_to_draft_or_be_cancelled():
    back, gone = draft("Back"), draft("Gone")
    soon = timezone.now() + timedelta(minutes=5)
    states.schedule_for(back, soon)
    states.schedule_for(gone, soon)
    assert states.unschedule(back)
    assert (back.state, back.scheduled_for) == (BroadcastState.DRAFT, None)
    assert states.cancel(gone)
    assert states.start_due(now=soon + timedelta(minutes=1)) == []
    assert not OutboxTask.objects.exists()
    gone.refresh_from_db()
    assert gone.state == BroadcastState.CANCELLED
    assert not states.unschedule(gone)


@pytest.mark.django_db
def test_the_daily_broadcast_is_none_of_the_due_checks_business():
    # daily.start makes it "scheduled" without a time and starts it itself.
    Broadcast.objects.create(
        idempotency_key="daily:2026-11-23", name="Daily", text="Hi", state="scheduled"
    )
    assert states.start_due(now=timezone.now() + timedelta(days=1)) == []


@pytest.mark.django_db(transaction=True)
def test_two_beats_checking_at_once_start_it_once():
    broadcast = draft()
    states.schedule_for(broadcast, timezone.now() - timedelta(seconds=1))
    started: list[list[int]] = []
    barrier = threading.Barrier(4)

    def check() -> None:
        barrier.wait()
        try:
            started.append(states.start_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=check) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(started) == [[], [], [], [broadcast.pk]]
    assert fan_outs(broadcast) <= 1  # published at once, or waiting in the outbox
    assert Broadcast.objects.get().state == BroadcastState.SENDING


def test_beats_due_check_on_a_worker_sends_it(celery_worker, recording):
    subscribers = opted_in(3)
    broadcast = draft()
    states.schedule_for(broadcast, timezone.now() - timedelta(seconds=1))
    entry = app.conf.beat_schedule["start-scheduled-broadcasts"]
    assert entry["task"] == task_names.START_DUE_BROADCASTS and entry["schedule"] <= 30
    app.send_task(entry["task"])
    wait_for(
        lambda: Broadcast.objects.get().state == BroadcastState.DONE, what="the broadcast to finish"
    )
    assert sorted(Message.objects.values_list("subscriber_id", flat=True)) == [
        s.pk for s in subscribers
    ]
    assert len(recording.SENT) == 3
