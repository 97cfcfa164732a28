"""Fan-out: one message per recipient, created in checkpointed batches.

Fan-out walks the sendable subscribers in id order from a cursor, creating one
message per subscriber and moving the cursor in the same transaction, so a
crash resumes after the last committed batch and the unique (broadcast,
subscriber) constraint keeps a replayed batch from making a second message.
A same-moment broadcast has one cursor, on the broadcast; a local-time one has
one per wave (messaging.broadcasts.waves), fanned out as each falls due.
"""

import logging
import time

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from messaging import task_names
from messaging.broadcasts import waves
from messaging.broadcasts.audience import audience, build_message
from messaging.broadcasts.progress import refresh_progress
from messaging.models import (
    Broadcast,
    BroadcastState,
    Message,
    MessageStatus,
    SendMode,
    Wave,
)
from smsbot import outbox
from smsbot.celery import BULK_QUEUE, app

log = logging.getLogger(__name__)


# A fan-out task hands over to a fresh task after this long (task time limits).
FANOUT_SLICE_SECONDS = 20.0


def fan_out(broadcast_id: int, slice_seconds: float = FANOUT_SLICE_SECONDS) -> int:
    """Create and queue the broadcast's messages batch by batch; returns how many."""
    deadline = time.monotonic() + slice_seconds
    created = 0
    while True:
        with transaction.atomic():
            # Writing first takes the row lock (PostgreSQL) or the write lock
            # (SQLite), so two fan-outs of one broadcast take turns per batch.
            Broadcast.objects.filter(pk=broadcast_id).update(cursor=F("cursor"))
            broadcast = Broadcast.objects.get(pk=broadcast_id)
            if broadcast.state != BroadcastState.SENDING:
                return created
            checkpoint = _next(broadcast)
            if checkpoint is None:
                break
            created += _fan_out_batch(broadcast, *checkpoint)
            if time.monotonic() > deadline:
                # Hand over to a new task in the same transaction as the checkpoint.
                outbox.enqueue(task_names.FAN_OUT, broadcast_id, queue=BULK_QUEUE)
                return created
    refresh_progress(broadcast_id)
    return created


def _next(broadcast: Broadcast) -> tuple[QuerySet, Broadcast | Wave] | None:
    """Who is still to be given a message, and the checkpoint that walks them; None
    when nothing is left for now (a local-time broadcast's date may still be open)."""
    if broadcast.fanout_done:
        return None
    if broadcast.mode == SendMode.SAME_MOMENT:
        return audience(broadcast.channel), broadcast
    wave = broadcast.waves.filter(fanout_done=False).order_by("due_at").first()
    if wave is not None:
        return waves.wave_recipients(broadcast, wave), wave
    if waves.finished(broadcast):
        broadcast.fanout_done = True
        broadcast.save(update_fields=["fanout_done"])
    return None


def _fan_out_batch(broadcast: Broadcast, recipients: QuerySet, checkpoint: Broadcast | Wave) -> int:
    size = settings.BROADCAST_BATCH_SIZE
    batch = list(recipients.filter(id__gt=checkpoint.cursor).order_by("id")[:size])
    if batch:
        Message.objects.bulk_create(
            [build_message(broadcast, s) for s in batch], ignore_conflicts=True
        )
        ids = list(
            Message.objects.filter(
                broadcast=broadcast,
                subscriber_id__in=[s.id for s in batch],
                status=MessageStatus.QUEUED,
            ).values_list("id", flat=True)
        )
        outbox.enqueue(task_names.QUEUE_SENDS, ids, queue=BULK_QUEUE)
        checkpoint.cursor = batch[-1].id
    checkpoint.fanout_done = len(batch) < size
    broadcast.fanout_moved_at = timezone.now()
    if checkpoint is broadcast:
        broadcast.total += len(batch)
        broadcast.save(update_fields=["cursor", "total", "fanout_done", "fanout_moved_at"])
    else:
        # A wave's recipients count from its plan; the broadcast's total comes with the
        # progress recount its first sends ask for.
        checkpoint.save(update_fields=["cursor", "fanout_done"])
        broadcast.save(update_fields=["fanout_moved_at"])
    return len(batch)


def queue_sends(message_ids: list[int]) -> None:
    """Publish send tasks in batches (a duplicate is harmless: the claim decides)."""
    size = settings.SEND_BATCH_SIZE
    for i in range(0, len(message_ids), size):
        app.send_task(task_names.SEND_BATCH, args=[message_ids[i : i + size]], queue=BULK_QUEUE)
