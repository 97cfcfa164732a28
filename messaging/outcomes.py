"""The one model of a message's outcome: what every screen calls a message.

Each outbound message is in exactly one bucket, so the buckets of a broadcast
add up to its messages and no message is counted twice:

- queued: waiting to go to the provider, or being handed over right now;
- held: queued, but kept back until a known moment (the recipient's quiet
  hours, a retry's back-off) or until an operator resumes its paused broadcast;
- sent: the provider accepted it and has not yet said whether it arrived;
- delivered: the provider reported it arrived (or was read);
- failed: it did not arrive. That is both a provider refusing it and a message
  the provider accepted but then reported undelivered: for an operator both
  mean the subscriber did not get it;
- skipped: deliberately not sent (consent, pause, cancelled), with its reason;
- needs review: the provider may or may not have sent it; an operator decides;
- unknown: sent, but no final delivery report came within the provider's horizon
  (messaging.delivery.horizons). Never counted as sent or delivered; a late
  report still moves it to delivered or failed.

"Sent" is therefore never cumulative: a delivered message is no longer "sent".
A broadcast's progress is how many of its messages are "processed" (every
bucket but queued and held). The status → bucket map is below; "held" is
derived from the hold the sender records (status queued with next_attempt_at
in the future, or a paused broadcast), not guessed.

Counts come from outcomes_of(): one grouped pass over a broadcast's messages
(tallies_of, through the (broadcast, status) index) and, for broadcasts with
queued messages, one over the partial index of queued messages by
next_attempt_at. The recount that stores counts on the Broadcast and every live
screen use it. The same pass also counts channels and sums cost, so a screen
that shows a broadcast's channel split and spend reads its messages once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.utils import timezone

from messaging import task_names
from messaging.models import (
    BILLED_STATUSES,
    COST,
    Broadcast,
    BroadcastState,
    Message,
    MessageStatus,
)
from smsbot.celery import REPLIES_QUEUE, app
from smsbot.timezones import ops_zone, shown_day, shown_time
from subscribers.models import Channel


class Bucket:
    QUEUED = "queued"
    HELD = "held"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = "skipped"
    NEEDS_REVIEW = "needs_review"
    UNKNOWN = "unknown"


# In the order screens show them, with the words they use.
BUCKETS: tuple[tuple[str, str], ...] = (
    (Bucket.QUEUED, "Queued"),
    (Bucket.HELD, "Held"),
    (Bucket.SENT, "Sent, awaiting report"),
    (Bucket.DELIVERED, "Delivered"),
    (Bucket.FAILED, "Failed"),
    (Bucket.SKIPPED, "Skipped"),
    (Bucket.NEEDS_REVIEW, "Needs review"),
    (Bucket.UNKNOWN, "Unknown (no report)"),
)
LABELS = dict(BUCKETS)

# Every outbound status and its bucket. A queued message may be held instead (see held_q).
BUCKET_OF_STATUS: dict[str, str] = {
    MessageStatus.QUEUED: Bucket.QUEUED,
    MessageStatus.SENDING: Bucket.QUEUED,
    MessageStatus.SENT: Bucket.SENT,
    MessageStatus.DELIVERED: Bucket.DELIVERED,
    MessageStatus.READ: Bucket.DELIVERED,
    MessageStatus.UNDELIVERED: Bucket.FAILED,
    MessageStatus.FAILED: Bucket.FAILED,
    MessageStatus.SKIPPED: Bucket.SKIPPED,
    MessageStatus.NEEDS_REVIEW: Bucket.NEEDS_REVIEW,
    # A sign-up confirmation waiting for room under the confirmation cap.
    MessageStatus.HELD: Bucket.HELD,
    MessageStatus.UNKNOWN: Bucket.UNKNOWN,
}


def statuses(bucket: str) -> list[str]:
    """The statuses whose messages fall in bucket (held ones: queued)."""
    if bucket == Bucket.HELD:
        return [MessageStatus.QUEUED, MessageStatus.HELD]
    return [s for s, b in BUCKET_OF_STATUS.items() if b == bucket]


# Why a message is held, as screens say it.
QUIET_HOURS = "quiet hours"
RETRY = "retry after a provider error"
PAUSED = "broadcast paused"


def held_q(now: datetime) -> Q:
    """Messages held back: queued with a wait recorded, or in a paused broadcast; and
    confirmations the confirmation cap holds."""
    return Q(status=MessageStatus.HELD) | (
        Q(status=MessageStatus.QUEUED)
        & (Q(next_attempt_at__gt=now) | Q(broadcast__state=BroadcastState.PAUSED))
    )


def bucket_q(bucket: str, now: datetime | None = None) -> Q:
    """The messages in bucket at now: the message list's Outcome filter."""
    now = now or timezone.now()
    if bucket == Bucket.HELD:
        return held_q(now)
    chosen = Q(status__in=statuses(bucket))
    if bucket == Bucket.QUEUED:
        chosen &= ~held_q(now)
    return chosen


def bucket_of(message: Message, now: datetime | None = None) -> str:
    """One message's bucket (the rule bucket_q applies to many)."""
    if message.status == MessageStatus.QUEUED and hold_of(message, now):
        return Bucket.HELD
    return BUCKET_OF_STATUS.get(message.status, "")


def hold_of(message: Message, now: datetime | None = None) -> Hold | None:
    """Why one queued message is held back, and until when (the rule outcomes_of applies
    to many); None when it is not."""
    if message.status != MessageStatus.QUEUED:
        return None
    if message.broadcast_id and message.broadcast.state == BroadcastState.PAUSED:
        return Hold(PAUSED, None, 1)
    if message.next_attempt_at and message.next_attempt_at > (now or timezone.now()):
        return Hold(RETRY if message.error_code else QUIET_HOURS, message.next_attempt_at, 1)
    return None


def clock(moment: datetime, now: datetime | None = None) -> str:
    """'08:00 CST' in OPS_TIMEZONE, zone named; 'Mon 7 Dec, 08:00 CST' when it is not
    today there (the one clock's day and time formats, as every other admin time)."""
    zone = ops_zone()
    at = moment.astimezone(zone)
    today = (now or timezone.now()).astimezone(zone).date()
    day = "" if at.date() == today else f"{shown_day(at.date())}, "
    return f"{day}{shown_time(at)}"


@dataclass(frozen=True)
class Hold:
    reason: str
    until: datetime | None  # None: until an operator resumes
    messages: int

    def text(self, now: datetime | None = None) -> str:
        """'16 held until 08:00 CST (quiet hours)'."""
        return f"{self.messages} {self.words(now)}"

    def words(self, now: datetime | None = None) -> str:
        """'held until 08:00 CST (quiet hours)', as one message's status says it."""
        when = f" until {clock(self.until, now)}" if self.until else ""
        return f"held{when} ({self.reason})"


@dataclass(frozen=True)
class Outcomes:
    """A broadcast's messages by bucket, and what holds the held ones."""

    counts: dict[str, int] = field(default_factory=dict)
    holds: tuple[Hold, ...] = ()
    now: datetime | None = None

    def __getitem__(self, bucket: str) -> int:
        return self.counts.get(bucket, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def processed(self) -> int:
        """Past the sending stage: sent, delivered, failed, skipped or needing review."""
        return self.total - self[Bucket.QUEUED] - self[Bucket.HELD]

    @property
    def percent(self) -> int:
        return round(self.processed / self.total * 100) if self.total else 0

    @property
    def summary(self) -> str:
        """'3 of 28 processed (11%)', the progress line of every screen."""
        return f"{self.processed} of {self.total} processed ({self.percent}%)"

    @property
    def held_text(self) -> str:
        """'16 held until 08:00 CST (quiet hours)'; empty when nothing is held."""
        return "; ".join(h.text(self.now) for h in self.holds)

    @property
    def awaiting_reports(self) -> bool:
        return self[Bucket.SENT] > 0


@dataclass(frozen=True)
class Tally:
    """One broadcast's messages counted: by status and by channel, what the billed ones
    cost, and how many of the e-mails were a fallback."""

    statuses: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    spent: Decimal = Decimal(0)
    fallback: int = 0


def tallies_of(broadcast_ids: Sequence[int]) -> dict[int, Tally]:
    """Each broadcast's Tally: one grouped pass over their messages whatever their size,
    and, for those with e-mails, a count of the few that were a fallback (on their own
    partial index).

    The pass reads only columns near the start of a message row: PostgreSQL decodes a
    row's columns in order up to the last one a query names, and naming fallback, far
    along the row, made it decode nearly every column of every message."""
    statuses: dict[int, dict[str, int]] = {pk: {} for pk in broadcast_ids}
    channels: dict[int, dict[str, int]] = {pk: {} for pk in statuses}
    spent = dict.fromkeys(statuses, Decimal(0))
    rows = (
        Message.objects.filter(broadcast_id__in=list(statuses))
        .order_by()
        .values_list("broadcast_id", "status", "channel")
        .annotate(n=Count("id"), cost=Sum(COST))
    )
    for broadcast_id, status, channel, n, cost in rows:
        statuses[broadcast_id][status] = statuses[broadcast_id].get(status, 0) + n
        channels[broadcast_id][channel] = channels[broadcast_id].get(channel, 0) + n
        if status in BILLED_STATUSES and cost:
            spent[broadcast_id] += cost
    with_email = [pk for pk in statuses if channels[pk].get(Channel.EMAIL)]
    fallback = dict(
        Message.objects.filter(broadcast_id__in=with_email, fallback=True)
        .order_by()
        .values_list("broadcast_id")
        .annotate(n=Count("id"))
        if with_email
        else []
    )
    return {
        pk: Tally(statuses[pk], channels[pk], spent[pk], fallback.get(pk, 0)) for pk in statuses
    }


def outcomes_of(
    broadcasts: Sequence[Broadcast],
    now: datetime | None = None,
    tallies: dict[int, Tally] | None = None,
) -> dict[int, Outcomes]:
    """Each broadcast's outcomes, in at most two grouped queries whatever their size
    (one if their tallies are given)."""
    now = now or timezone.now()
    if tallies is None:
        tallies = tallies_of([b.pk for b in broadcasts])
    by_status = {b.pk: tallies[b.pk].statuses for b in broadcasts}
    waiting = [
        b.pk
        for b in broadcasts
        if b.state != BroadcastState.PAUSED and by_status[b.pk].get(MessageStatus.QUEUED)
    ]
    holds = _timed_holds(waiting, now)
    found = {}
    for b in broadcasts:
        counts = {bucket: 0 for bucket, _ in BUCKETS}
        for status, n in by_status[b.pk].items():
            if status in BUCKET_OF_STATUS:
                counts[BUCKET_OF_STATUS[status]] += n
        queued = by_status[b.pk].get(MessageStatus.QUEUED, 0)
        if b.state == BroadcastState.PAUSED:
            held = (Hold(PAUSED, None, queued),) if queued else ()
        else:
            held = holds.get(b.pk, ())
        counts[Bucket.HELD] = sum(h.messages for h in held)
        counts[Bucket.QUEUED] -= counts[Bucket.HELD]
        found[b.pk] = Outcomes(counts, held, now)
    return found


def outcomes(broadcast: Broadcast, now: datetime | None = None) -> Outcomes:
    return outcomes_of([broadcast], now)[broadcast.pk]


def _timed_holds(broadcast_ids: list[int], now: datetime) -> dict[int, tuple[Hold, ...]]:
    """Queued messages waiting for a moment, per broadcast: one Hold per quiet-hours end
    (a few: one per recipients' zone) and one for retries (until the earliest)."""
    if not broadcast_ids:
        return {}
    rows = (
        Message.objects.filter(
            broadcast_id__in=broadcast_ids, status=MessageStatus.QUEUED, next_attempt_at__gt=now
        )
        .order_by()
        .values_list("broadcast_id", "next_attempt_at", "error_code")
        .annotate(n=Count("id"))
    )
    quiet: dict[int, dict[datetime, int]] = {}
    retry: dict[int, tuple[datetime, int]] = {}
    for broadcast_id, until, error_code, n in rows:
        if error_code:  # a provider error put it back to wait
            first, total = retry.get(broadcast_id, (until, 0))
            retry[broadcast_id] = (min(first, until), total + n)
        else:
            per_moment = quiet.setdefault(broadcast_id, {})
            per_moment[until] = per_moment.get(until, 0) + n
    holds: dict[int, tuple[Hold, ...]] = {}
    for broadcast_id in broadcast_ids:
        found = [Hold(QUIET_HOURS, u, n) for u, n in sorted(quiet.get(broadcast_id, {}).items())]
        if broadcast_id in retry:
            found.append(Hold(RETRY, *retry[broadcast_id]))
        holds[broadcast_id] = tuple(found)
    return holds


# The throttle key lives exactly as long as the countdown, so a send finishing
# after a scheduled recount has run always finds the key gone and schedules another.
PROGRESS_EVERY_SECONDS = 2
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
