"""The periodic sweep: put back work that a lost task or a killed worker left behind.

With Redis, a killed worker's unacknowledged task comes back after the
visibility timeout; with the embedded filesystem broker a consumed task is
gone once read. Either way the database knows what is unfinished: a message
queued long ago gets its send task published again (a duplicate is harmless,
the claim decides), a fan-out that stopped half-way is queued again, and a
message left "sending" by a dead worker is flagged for review — it may have
reached the provider, so it is never resent automatically — and a delivery
report that arrived before its send was written joins its message.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from messaging import task_names
from messaging.broadcasts import progress
from messaging.delivery import reports as delivery
from messaging.models import (
    Broadcast,
    BroadcastState,
    Message,
    MessageKind,
    MessageStatus,
    SendMode,
)
from smsbot import outbox
from smsbot.celery import BULK_QUEUE, REPLIES_QUEUE

log = logging.getLogger(__name__)

SWEEP_LIMIT = 5000


@dataclass(frozen=True)
class SweepResult:
    requeued: int
    stuck: int
    fanouts: int
    early_reports: int


def stalled_fanouts(now: datetime) -> list[int]:
    """Sending broadcasts with fan-out work left (a same-moment cursor, or a local-time
    wave whose time came) whose cursor has not moved for FANOUT_REQUEUE_AFTER_SECONDS.

    A local-time broadcast stays unfinished all day between its waves, and each wave's
    fan-out is queued when it is recorded: those are left alone.
    """
    cutoff = now - timedelta(seconds=settings.FANOUT_REQUEUE_AFTER_SECONDS)
    work_left = Q(mode=SendMode.SAME_MOMENT) | Q(
        waves__fanout_done=False, waves__due_at__lte=now, waves__created_at__lt=cutoff
    )
    return list(
        Broadcast.objects.filter(state=BroadcastState.SENDING, fanout_done=False)
        .filter(work_left)
        .annotate(moved=Coalesce("fanout_moved_at", "started_at", "created_at"))
        .filter(moved__lt=cutoff)
        .values_list("id", flat=True)
        .distinct()
        .order_by("id")
    )


def sweep() -> SweepResult:
    now = timezone.now()
    stuck = Message.objects.filter(
        status=MessageStatus.SENDING,
        updated_at__lt=now - timedelta(seconds=settings.SEND_STUCK_AFTER_SECONDS),
    ).update(
        status=MessageStatus.NEEDS_REVIEW,
        error_message="the worker stopped during the send: it may have reached the provider",
        updated_at=now,
    )
    if stuck:
        log.warning("%s message(s) left sending by a stopped worker flagged for review", stuck)

    idle = (
        Message.objects.filter(
            status=MessageStatus.QUEUED,
            updated_at__lt=now - timedelta(seconds=settings.SEND_REQUEUE_AFTER_SECONDS),
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(broadcast__isnull=True) | Q(broadcast__state=BroadcastState.SENDING))
        .order_by("id")
    )
    rows = list(idle.values_list("id", "kind")[:SWEEP_LIMIT])
    with transaction.atomic():
        Message.objects.filter(pk__in=[pk for pk, _ in rows]).update(updated_at=now)
        bulk = [pk for pk, kind in rows if kind == MessageKind.BROADCAST]
        if bulk:
            outbox.enqueue(task_names.QUEUE_SENDS, bulk, queue=BULK_QUEUE)
        for pk, kind in rows:
            if kind != MessageKind.BROADCAST:
                outbox.enqueue(task_names.SEND_MESSAGE, pk, queue=REPLIES_QUEUE)
        unfinished = stalled_fanouts(now)
        for broadcast_id in unfinished:
            outbox.enqueue(task_names.FAN_OUT, broadcast_id, queue=BULK_QUEUE)
    early = delivery.adopt_early_reports()
    if early:
        log.info("%s delivery report(s) that came before their send was written applied", early)
    for broadcast_id in progress.active_or_recent().values_list("id", flat=True):
        progress.refresh_progress(broadcast_id)
    return SweepResult(len(rows), stuck, len(unfinished), early)
