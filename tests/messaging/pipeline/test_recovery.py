"""The stale-message sweep and the month-to-date spend."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from messaging.billing import budget
from messaging.broadcasts import fanout
from messaging.models import Broadcast, BroadcastState, Message, MessageStatus
from messaging.outbound import recovery
from smsbot.models import OutboxTask
from tests.messaging.pipeline.conftest import opted_in

pytestmark = pytest.mark.django_db


def message(sub, status: str, broadcast=None, **fields) -> Message:  # type: ignore[no-untyped-def]
    return Message.objects.create(
        direction="outbound", kind="broadcast" if broadcast else "reply", provider="sns",
        phone=sub.phone, subscriber=sub, broadcast=broadcast, body="Hi", status=status, **fields,
    )  # fmt: skip


def test_the_sweep_flags_dead_sends_and_republishes_lost_tasks(settings):
    settings.SEND_STUCK_AFTER_SECONDS = 60
    settings.SEND_REQUEUE_AFTER_SECONDS = 60
    subs = opted_in(5)
    sending = Broadcast.objects.create(
        idempotency_key="a", name="a", text="Hi", state="sending",
        started_at=timezone.now() - timedelta(minutes=10),  # its fan-out stopped since
    )  # fmt: skip
    paused = Broadcast.objects.create(idempotency_key="b", name="b", text="Hi", state="paused")
    stuck = message(subs[0], MessageStatus.SENDING, sending)
    lost_bulk = message(subs[1], MessageStatus.QUEUED, sending)
    lost_reply = message(subs[2], MessageStatus.QUEUED)
    held = message(subs[3], MessageStatus.QUEUED, paused)
    fresh = message(subs[4], MessageStatus.QUEUED, sending)
    old = timezone.now() - timedelta(minutes=5)
    Message.objects.exclude(pk=fresh.pk).update(updated_at=old)

    result = recovery.sweep()

    assert (result.stuck, result.requeued, result.fanouts) == (1, 2, 1)
    stuck.refresh_from_db()
    assert stuck.status == MessageStatus.NEEDS_REVIEW and "may have reached" in stuck.error_message
    tasks = {(t.task_name, t.queue): t.args for t in OutboxTask.objects.all()}
    assert tasks[("messaging.queue_sends", "bulk")] == [[lost_bulk.pk]]
    assert tasks[("messaging.send_message", "replies")] == [lost_reply.pk]
    assert tasks[("messaging.fan_out", "bulk")] == [sending.pk]
    assert Message.objects.get(pk=held.pk).status == MessageStatus.QUEUED
    # Republished rows are not republished again on the next run.
    assert recovery.sweep().requeued == 0
    assert Broadcast.objects.get(pk=paused.pk).state == BroadcastState.PAUSED


def test_month_to_date_spend_uses_the_actual_price_when_known_and_the_utc_month():
    a, b = opted_in(2)
    message(
        a, MessageStatus.DELIVERED, price_estimated=Decimal("0.01"), price_actual=Decimal("0.02")
    )
    message(b, MessageStatus.SENT, price_estimated=Decimal("0.00645"))
    message(b, MessageStatus.FAILED, price_estimated=Decimal("1"))  # never charged
    message(b, MessageStatus.SKIPPED, price_estimated=Decimal("1"))
    last_month = message(b, MessageStatus.SENT, price_estimated=Decimal("5"))
    Message.objects.filter(pk=last_month.pk).update(
        created_at=budget.month_start() - timedelta(seconds=1)
    )
    assert budget.spent_in_database() == Decimal("0.02645")
    assert budget.status().spent == Decimal("0.02645")
    assert budget.month_start(datetime(2026, 3, 31, 23, 30, tzinfo=UTC)) == datetime(
        2026, 3, 1, tzinfo=UTC
    )


def test_a_reservation_is_refused_before_the_limit_is_crossed(settings):
    settings.SMS_MONTHLY_SPEND_LIMIT_USD = Decimal("0.02")
    assert budget.reserve(Decimal("0.01"))
    assert budget.reserve(Decimal("0.01"))  # exactly at the limit: allowed
    assert not budget.reserve(Decimal("0.00001"))
    budget.release(Decimal("0.01"))
    assert budget.reserve(Decimal("0.00645"))
    assert budget.status().spent == Decimal("0.01645")


def fan_outs_queued() -> list[int]:
    return [t.args[0] for t in OutboxTask.objects.filter(task_name="messaging.fan_out")]


def test_the_sweep_leaves_a_healthy_local_time_broadcast_between_its_waves_alone(settings):
    settings.FANOUT_REQUEUE_AFTER_SECONDS = 120
    hours_ago = timezone.now() - timedelta(hours=3)
    healthy = Broadcast.objects.create(
        idempotency_key="daily:local", name="Daily", text="Hi", state="sending",
        mode="local_time", started_at=hours_ago, fanout_moved_at=hours_ago,
    )  # fmt: skip
    healthy.waves.create(due_at=hours_ago, fanout_done=True)
    # Later waves are recorded when they come; until then there is nothing to do.
    for _ in range(3):
        assert recovery.sweep().fanouts == 0
    assert fan_outs_queued() == []


def test_the_sweep_requeues_a_stale_fan_out_and_an_open_wave_left_behind(settings):
    settings.FANOUT_REQUEUE_AFTER_SECONDS = 120
    now = timezone.now()
    stale = Broadcast.objects.create(
        idempotency_key="adhoc:stale", name="Stale", text="Hi", state="sending",
        started_at=now - timedelta(minutes=30), fanout_moved_at=now - timedelta(minutes=5),
    )  # fmt: skip
    moving = Broadcast.objects.create(
        idempotency_key="adhoc:moving", name="Moving", text="Hi", state="sending",
        started_at=now - timedelta(minutes=30), fanout_moved_at=now - timedelta(seconds=20),
    )  # fmt: skip
    left = Broadcast.objects.create(
        idempotency_key="daily:left", name="Daily", text="Hi", state="sending",
        mode="local_time", started_at=now - timedelta(hours=2),
        fanout_moved_at=now - timedelta(hours=1),
    )  # fmt: skip
    wave = left.waves.create(due_at=now - timedelta(minutes=10))
    wave.__class__.objects.filter(pk=wave.pk).update(created_at=now - timedelta(minutes=10))
    # Just recorded: its own fan-out was queued with it.
    fresh = Broadcast.objects.create(
        idempotency_key="daily:fresh", name="Daily", text="Hi", state="sending",
        mode="local_time", started_at=now - timedelta(hours=2),
        fanout_moved_at=now - timedelta(hours=1),
    )  # fmt: skip
    fresh.waves.create(due_at=now)

    assert recovery.sweep().fanouts == 2
    assert sorted(fan_outs_queued()) == sorted([stale.pk, left.pk])
    assert moving.pk not in fan_outs_queued() and fresh.pk not in fan_outs_queued()


def test_a_fan_out_batch_moves_the_cursor_stamp(settings):
    settings.FANOUT_REQUEUE_AFTER_SECONDS = 120
    opted_in(3)
    old = timezone.now() - timedelta(minutes=10)
    broadcast = Broadcast.objects.create(
        idempotency_key="adhoc:run", name="Run", text="Hi", state="sending", started_at=old
    )
    assert recovery.stalled_fanouts(timezone.now()) == [broadcast.pk]
    fanout.fan_out(broadcast.pk)
    broadcast.refresh_from_db()
    assert broadcast.fanout_moved_at > old and broadcast.fanout_done
    assert recovery.stalled_fanouts(timezone.now()) == []
