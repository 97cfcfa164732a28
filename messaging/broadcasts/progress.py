"""Broadcast progress: its outcome counts, stored and shown, and when it is done.

The counts are messaging.outcomes' buckets. The recount stores them on the
Broadcast (sent, delivered, failed, skipped, unknown, total); screens read them live
through shown() while they may still move, and the stored ones once the
broadcast has settled, so a list of many old broadcasts reads no messages.
"""

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from messaging import outcomes
from messaging.models import (
    Broadcast,
    BroadcastState,
    Message,
    MessageStatus,
)
from messaging.outcomes import Bucket, Outcomes, Tally

log = logging.getLogger(__name__)


PENDING_STATUSES = [MessageStatus.QUEUED, MessageStatus.SENDING]
# The buckets a Broadcast stores, each in the field of its name.
STORED = (Bucket.SENT, Bucket.DELIVERED, Bucket.FAILED, Bucket.SKIPPED, Bucket.UNKNOWN)
# Delivery reports may come this long after a broadcast finished.
SETTLES_AFTER = timedelta(days=2)


def refresh_progress(broadcast_id: int) -> None:
    """Store its outcome counts (messaging.outcomes, as every screen reads them) and
    finish it when nothing is left to send."""
    broadcast = Broadcast.objects.filter(pk=broadcast_id).first()
    if broadcast is None:
        return
    counts = outcomes.outcomes(broadcast)
    Broadcast.objects.filter(pk=broadcast_id).update(
        total=counts.total, **{field: counts[field] for field in STORED}
    )
    pending = Message.objects.filter(broadcast=OuterRef("pk"), status__in=PENDING_STATUSES)
    finished = (
        Broadcast.objects.filter(pk=broadcast_id, state=BroadcastState.SENDING, fanout_done=True)
        .filter(~Exists(pending))
        .update(state=BroadcastState.DONE, finished_at=timezone.now())
    )
    if finished:
        log.info("broadcast %s done", broadcast_id)


def active_or_recent() -> QuerySet[Broadcast]:
    """Broadcasts whose counts may still move (sending, or delivery reports arriving)."""
    recent = timezone.now() - SETTLES_AFTER
    return Broadcast.objects.filter(Q(state=BroadcastState.SENDING) | Q(finished_at__gte=recent))


# States in which a broadcast's progress may still move on its own.
LIVE_STATES = (BroadcastState.SCHEDULED, BroadcastState.SENDING)


def settled(broadcast: Broadcast, now: datetime) -> bool:
    """Nothing will move its counts any more: its stored recount is final."""
    if broadcast.state == BroadcastState.DRAFT:
        return True
    return (
        broadcast.state in (BroadcastState.DONE, BroadcastState.CANCELLED)
        and broadcast.finished_at is not None
        and broadcast.finished_at < now - SETTLES_AFTER
    )


def stored(broadcast: Broadcast) -> Outcomes:
    """The last recount, as outcomes (a settled broadcast has nothing queued or held)."""
    counts = {field: getattr(broadcast, field) for field in STORED}
    counts[Bucket.NEEDS_REVIEW] = max(0, broadcast.total - sum(counts.values()))
    return Outcomes(counts)


def shown(
    broadcasts: Sequence[Broadcast],
    now: datetime | None = None,
    tallies: dict[int, Tally] | None = None,
) -> dict[int, Outcomes]:
    """What every screen shows of these broadcasts: live while they may move, stored after.
    tallies: their messages already counted (outcomes.tallies_of), where a screen has."""
    now = now or timezone.now()
    moving = [b for b in broadcasts if not settled(b, now)]
    found = outcomes.outcomes_of(moving, now, tallies)
    return {b.pk: found[b.pk] if b.pk in found else stored(b) for b in broadcasts}
