"""Broadcast states: draft → sending → done, with paused and cancelled on the side.

Scheduled is a draft waiting for its time: beat's due check (start_due) starts
it, and until then it can be taken back to draft or cancelled. Every change
is a conditional UPDATE from the states it may leave, so two operators (or an
operator and a worker, or two beats) cannot both make it.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from messaging import task_names
from messaging.broadcasts import audience, sandbox
from messaging.broadcasts.progress import refresh_progress
from messaging.models import (
    Broadcast,
    BroadcastState,
    Message,
    MessageStatus,
)
from messaging.skips import SkipReason
from smsbot import outbox
from smsbot.celery import BULK_QUEUE

log = logging.getLogger(__name__)


def start(broadcast: Broadcast) -> bool:
    """draft/scheduled → sending, and queue the fan-out; False if it had started, or if
    the SMS sandbox holds it (then paused with the reason, to resume once out)."""
    held = sandbox.refusal(broadcast.channel)
    if held:
        Broadcast.objects.filter(
            pk=broadcast.pk, state__in=[BroadcastState.DRAFT, BroadcastState.SCHEDULED]
        ).update(state=BroadcastState.PAUSED, pause_reason=held, started_at=timezone.now())
        broadcast.refresh_from_db()
        log.warning("broadcast %s not started: %s", broadcast.pk, held)
        return False
    with transaction.atomic():
        started = Broadcast.objects.filter(
            pk=broadcast.pk, state__in=[BroadcastState.DRAFT, BroadcastState.SCHEDULED]
        ).update(state=BroadcastState.SENDING, started_at=timezone.now())
        if started:
            # Who the fan-out leaves out, in the preview's words, for the report after.
            split = audience.skip_split(
                broadcast.channel, template=bool(broadcast.whatsapp_content_sid)
            )
            Broadcast.objects.filter(pk=broadcast.pk).update(skips=split.left_out())
            outbox.enqueue(task_names.FAN_OUT, broadcast.pk, queue=BULK_QUEUE)
    broadcast.refresh_from_db()
    return bool(started)


def schedule_for(broadcast: Broadcast, when: datetime) -> bool:
    """draft → scheduled, to start at `when`; False if it is no longer a draft."""
    scheduled = Broadcast.objects.filter(pk=broadcast.pk, state=BroadcastState.DRAFT).update(
        state=BroadcastState.SCHEDULED, scheduled_for=when
    )
    broadcast.refresh_from_db()
    return bool(scheduled)


def unschedule(broadcast: Broadcast) -> bool:
    """scheduled → draft before it starts, to edit it or send it another time."""
    unscheduled = Broadcast.objects.filter(
        pk=broadcast.pk, state=BroadcastState.SCHEDULED, scheduled_for__isnull=False
    ).update(state=BroadcastState.DRAFT, scheduled_for=None)
    broadcast.refresh_from_db()
    return bool(unscheduled)


def start_due(now: datetime | None = None) -> list[int]:
    """Start every scheduled broadcast whose time has come; the ids started.

    The daily broadcast is scheduled without a time (it starts as it is made),
    so only broadcasts scheduled for a time are due here. start()'s conditional
    update lets one caller only start each, however many checks overlap.
    """
    due = Broadcast.objects.filter(
        state=BroadcastState.SCHEDULED,
        scheduled_for__isnull=False,
        scheduled_for__lte=now or timezone.now(),
    ).order_by("scheduled_for", "pk")
    started = [broadcast.pk for broadcast in due if start(broadcast)]
    for pk in started:
        log.info("scheduled broadcast %s started", pk)
    return started


def pause(broadcast: Broadcast, reason: str, *, braked: bool = False) -> bool:
    """sending → paused; braked: the brake paused it (messaging.delivery.brake)."""
    paused = Broadcast.objects.filter(pk=broadcast.pk, state=BroadcastState.SENDING).update(
        state=BroadcastState.PAUSED,
        pause_reason=reason[:200],
        braked_at=timezone.now() if braked else None,
    )
    if paused:
        log.warning("broadcast %s paused: %s", broadcast.pk, reason)
    return bool(paused)


def resume(broadcast: Broadcast) -> bool:
    """paused → sending: continue the fan-out and publish the held messages again."""
    with transaction.atomic():
        resumed = Broadcast.objects.filter(pk=broadcast.pk, state=BroadcastState.PAUSED).update(
            state=BroadcastState.SENDING, pause_reason="", braked_at=None
        )
        if resumed:
            _requeue(broadcast)
    return bool(resumed)


def cancel(broadcast: Broadcast) -> bool:
    """Stop for good: messages not yet claimed are skipped."""
    with transaction.atomic():
        cancelled = (
            Broadcast.objects.filter(pk=broadcast.pk)
            .exclude(state__in=[BroadcastState.DONE, BroadcastState.CANCELLED])
            .update(state=BroadcastState.CANCELLED, finished_at=timezone.now())
        )
        if cancelled:
            Message.objects.filter(broadcast=broadcast, status=MessageStatus.QUEUED).update(
                status=MessageStatus.SKIPPED,
                error_message="broadcast cancelled",
                skip_reason=SkipReason.CANCELLED,
                updated_at=timezone.now(),
            )
    refresh_progress(broadcast.pk)
    return bool(cancelled)


def retry_failed(broadcast: Broadcast) -> int:
    """Queue the failed messages again (consent is checked again when each is claimed)."""
    with transaction.atomic():
        retried = Message.objects.filter(broadcast=broadcast, status=MessageStatus.FAILED).update(
            status=MessageStatus.QUEUED, attempts=0, next_attempt_at=None, updated_at=timezone.now()
        )
        if retried:
            Broadcast.objects.filter(pk=broadcast.pk, state=BroadcastState.DONE).update(
                state=BroadcastState.SENDING, finished_at=None
            )
            _requeue(broadcast)
    refresh_progress(broadcast.pk)
    return retried


def _requeue(broadcast: Broadcast) -> None:
    broadcast.refresh_from_db()
    if not broadcast.fanout_done:
        outbox.enqueue(task_names.FAN_OUT, broadcast.pk, queue=BULK_QUEUE)
    ids = list(
        Message.objects.filter(broadcast=broadcast, status=MessageStatus.QUEUED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    size = settings.BROADCAST_BATCH_SIZE
    for i in range(0, len(ids), size):
        outbox.enqueue(task_names.QUEUE_SENDS, ids[i : i + size], queue=BULK_QUEUE)
