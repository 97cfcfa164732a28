"""Broadcast progress: counts recomputed from its messages, and when it is done."""

import logging
import time
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from messaging import task_names
from messaging.models import (
    Broadcast,
    BroadcastState,
    Message,
    MessageStatus,
)
from smsbot.celery import REPLIES_QUEUE, app

log = logging.getLogger(__name__)


PENDING_STATUSES = [MessageStatus.QUEUED, MessageStatus.SENDING]
REACHED_PROVIDER = [
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.READ,
    MessageStatus.UNDELIVERED,
]
# Each count a broadcast keeps, and the statuses of the messages it counts.
COUNTED_STATUSES: dict[str, list[str]] = {
    "sent": REACHED_PROVIDER,
    "delivered": [MessageStatus.DELIVERED, MessageStatus.READ],
    "failed": [MessageStatus.FAILED, MessageStatus.UNDELIVERED],
    "skipped": [MessageStatus.SKIPPED],
}
# The throttle key lives exactly as long as the countdown, so a send finishing
# after a scheduled recount has run always finds the key gone and schedules another.
PROGRESS_EVERY_SECONDS = 2


def refresh_progress(broadcast_id: int) -> None:
    """Recount from the messages (one grouped query) and finish when nothing is left."""
    counts = dict(
        Message.objects.filter(broadcast_id=broadcast_id)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    Broadcast.objects.filter(pk=broadcast_id).update(
        total=sum(counts.values()),
        **{
            field: sum(counts.get(status, 0) for status in statuses)
            for field, statuses in COUNTED_STATUSES.items()
        },
    )
    pending = Message.objects.filter(broadcast=OuterRef("pk"), status__in=PENDING_STATUSES)
    finished = (
        Broadcast.objects.filter(pk=broadcast_id, state=BroadcastState.SENDING, fanout_done=True)
        .filter(~Exists(pending))
        .update(state=BroadcastState.DONE, finished_at=timezone.now())
    )
    if finished:
        log.info("broadcast %s done", broadcast_id)


# broadcast id -> when this process last scheduled a recount (time.monotonic()).
_progress_scheduled: dict[int, float] = {}


def progress_soon(broadcast_id: int | None) -> None:
    """Recount in a moment; at most one recount per broadcast every couple of seconds."""
    if broadcast_id is None:
        return
    # A busy worker writes sends many times a second: while the recount it
    # scheduled itself is still to come, it need not ask the shared cache.
    now = time.monotonic()
    last = _progress_scheduled.get(broadcast_id)
    if last is not None and now - last < PROGRESS_EVERY_SECONDS:
        return
    if cache.add(f"messaging:progress:{broadcast_id}", 1, timeout=PROGRESS_EVERY_SECONDS):
        _progress_scheduled[broadcast_id] = now
        app.send_task(
            task_names.BROADCAST_PROGRESS,
            args=[broadcast_id],
            queue=REPLIES_QUEUE,
            countdown=PROGRESS_EVERY_SECONDS,
        )


def needs_review_count(broadcast: Broadcast) -> int:
    return broadcast.messages.filter(status=MessageStatus.NEEDS_REVIEW).count()


def active_or_recent() -> QuerySet[Broadcast]:
    """Broadcasts whose counts may still move (sending, or delivery reports arriving)."""
    recent = timezone.now() - timedelta(days=2)
    return Broadcast.objects.filter(Q(state=BroadcastState.SENDING) | Q(finished_at__gte=recent))


# States in which a broadcast's progress may still move on its own.
LIVE_STATES = (BroadcastState.SCHEDULED, BroadcastState.SENDING)


def processed(broadcast: Broadcast) -> int:
    """Messages past the provider or given up (at most the total: an undelivered
    message counts both as sent and as failed)."""
    return min(broadcast.sent + broadcast.failed + broadcast.skipped, broadcast.total)
