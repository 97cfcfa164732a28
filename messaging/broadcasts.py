"""Broadcasts: audience, fan-out in checkpointed batches, state changes, progress.

States: draft → sending → done, with paused and cancelled on the side
(scheduled is a draft waiting for its time). Fan-out walks the sendable
subscribers in id order from broadcast.cursor, creating one message per
subscriber and moving the cursor in the same transaction, so a crash resumes
after the last committed batch and the unique (broadcast, subscriber)
constraint keeps a replayed batch from making a second message.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from messaging import pricing, segments
from messaging.models import (
    Broadcast,
    BroadcastState,
    Message,
    MessageKind,
    MessageStatus,
    Provider,
)
from messaging.outbound import outbound
from smsbot import outbox
from smsbot.celery import BULK_QUEUE, REPLIES_QUEUE, app
from subscribers.models import Channel, ConsentStatus, Subscriber

log = logging.getLogger(__name__)

PENDING_STATUSES = [MessageStatus.QUEUED, MessageStatus.SENDING]
REACHED_PROVIDER = [
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.READ,
    MessageStatus.UNDELIVERED,
]
# A fan-out task hands over to a fresh task after this long (task time limits).
FANOUT_SLICE_SECONDS = 20.0
# The throttle key lives exactly as long as the countdown, so a send finishing
# after a scheduled recount has run always finds the key gone and schedules another.
PROGRESS_EVERY_SECONDS = 2


def provider_for(channel: str) -> str:
    """SNS cannot reach WhatsApp: WhatsApp always goes through Twilio."""
    if channel == Channel.WHATSAPP and settings.SMS_PROVIDER == Provider.SNS:
        return Provider.TWILIO
    return settings.SMS_PROVIDER


def audience(channel: str = "") -> QuerySet[Subscriber]:
    """Who a broadcast goes to: opted in, deliverable, not erased (index-backed)."""
    subscribers = Subscriber.objects.filter(
        consent_status=ConsentStatus.OPTED_IN, undeliverable=False, erased_at__isnull=True
    )
    return subscribers.filter(channel=channel) if channel else subscribers


@dataclass
class Preview:
    recipients: int
    by_channel: dict[str, int]
    encoding: str
    segments: int
    warnings: list[str]
    projected_cost: Decimal
    cost_by_provider: dict[str, Decimal] = field(default_factory=dict)


def preview(text: str, channel: str = "", *, template: bool = False) -> Preview:
    """Recipients, segments and projected cost of sending text now."""
    info = segments.count(text)
    by_channel = dict(
        audience(channel).values_list("channel").annotate(n=Count("id")).order_by("channel")
    )
    costs: dict[str, Decimal] = {}
    for ch, n in by_channel.items():
        provider = provider_for(ch)
        unit = pricing.estimate(provider, ch, text, template=template and ch == Channel.WHATSAPP)
        costs[provider] = costs.get(provider, Decimal("0")) + unit * n
    return Preview(
        recipients=sum(by_channel.values()),
        by_channel=by_channel,
        encoding=info.encoding,
        segments=info.segments,
        warnings=info.warnings,
        projected_cost=sum(costs.values(), Decimal("0")),
        cost_by_provider=costs,
    )


def build_message(broadcast: Broadcast, subscriber: Subscriber) -> Message:
    whatsapp = subscriber.channel == Channel.WHATSAPP
    return outbound(
        kind=MessageKind.BROADCAST,
        channel=subscriber.channel,
        provider=provider_for(subscriber.channel),
        phone=subscriber.phone,
        body=broadcast.text,
        template=whatsapp and bool(broadcast.whatsapp_content_sid),
        subscriber=subscriber,
        broadcast=broadcast,
        # The provider needs the template for WhatsApp outside the 24-hour window.
        content_sid=broadcast.whatsapp_content_sid if whatsapp else "",
        content_variables=broadcast.whatsapp_content_variables if whatsapp else {},
        status=MessageStatus.QUEUED,
    )


def start(broadcast: Broadcast) -> bool:
    """draft/scheduled → sending, and queue the fan-out; False if it had started."""
    with transaction.atomic():
        started = Broadcast.objects.filter(
            pk=broadcast.pk, state__in=[BroadcastState.DRAFT, BroadcastState.SCHEDULED]
        ).update(state=BroadcastState.SENDING, started_at=timezone.now())
        if started:
            outbox.enqueue("messaging.fan_out", broadcast.pk, queue=BULK_QUEUE)
    broadcast.refresh_from_db()
    return bool(started)


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
            if broadcast.state != BroadcastState.SENDING or broadcast.fanout_done:
                return created
            created += _fan_out_batch(broadcast)
            if broadcast.fanout_done:
                break
            if time.monotonic() > deadline:
                # Hand over to a new task in the same transaction as the checkpoint.
                outbox.enqueue("messaging.fan_out", broadcast_id, queue=BULK_QUEUE)
                return created
    refresh_progress(broadcast_id)
    return created


def _fan_out_batch(broadcast: Broadcast) -> int:
    size = settings.BROADCAST_BATCH_SIZE
    batch = list(audience(broadcast.channel).filter(id__gt=broadcast.cursor).order_by("id")[:size])
    if batch:
        Message.objects.bulk_create(
            [build_message(broadcast, s) for s in batch], ignore_conflicts=True
        )
        ids = list(
            Message.objects.filter(
                broadcast=broadcast,
                subscriber_id__gt=broadcast.cursor,
                subscriber_id__lte=batch[-1].id,
                status=MessageStatus.QUEUED,
            ).values_list("id", flat=True)
        )
        outbox.enqueue("messaging.queue_sends", ids, queue=BULK_QUEUE)
        broadcast.cursor = batch[-1].id
        broadcast.total += len(batch)
    broadcast.fanout_done = len(batch) < size
    broadcast.save(update_fields=["cursor", "total", "fanout_done"])
    return len(batch)


def queue_sends(message_ids: list[int]) -> None:
    """Publish send tasks in batches (a duplicate is harmless: the claim decides)."""
    size = settings.SEND_BATCH_SIZE
    for i in range(0, len(message_ids), size):
        app.send_task("messaging.send_batch", args=[message_ids[i : i + size]], queue=BULK_QUEUE)


def pause(broadcast: Broadcast, reason: str) -> bool:
    paused = Broadcast.objects.filter(pk=broadcast.pk, state=BroadcastState.SENDING).update(
        state=BroadcastState.PAUSED, pause_reason=reason[:200]
    )
    if paused:
        log.warning("broadcast %s paused: %s", broadcast.pk, reason)
    return bool(paused)


def resume(broadcast: Broadcast) -> bool:
    """paused → sending: continue the fan-out and publish the held messages again."""
    with transaction.atomic():
        resumed = Broadcast.objects.filter(pk=broadcast.pk, state=BroadcastState.PAUSED).update(
            state=BroadcastState.SENDING, pause_reason=""
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
        outbox.enqueue("messaging.fan_out", broadcast.pk, queue=BULK_QUEUE)
    ids = list(
        Message.objects.filter(broadcast=broadcast, status=MessageStatus.QUEUED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    size = settings.BROADCAST_BATCH_SIZE
    for i in range(0, len(ids), size):
        outbox.enqueue("messaging.queue_sends", ids[i : i + size], queue=BULK_QUEUE)


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
        sent=sum(counts.get(s, 0) for s in REACHED_PROVIDER),
        delivered=counts.get(MessageStatus.DELIVERED, 0) + counts.get(MessageStatus.READ, 0),
        failed=counts.get(MessageStatus.FAILED, 0) + counts.get(MessageStatus.UNDELIVERED, 0),
        skipped=counts.get(MessageStatus.SKIPPED, 0),
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
            "messaging.broadcast_progress",
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
