"""Aggregate figures for the operations views, as plain functions.

Days the rollups cover come from them; today (and any day not rolled up yet,
as on a fresh install) comes straight from Message through the created_at
index, so the figures are live without scanning months of messages.
`load_facts` fetches both once; the functions below only add them up, so a
page makes a handful of queries whatever the table size. Days and months are
UTC ones (see messaging.reports.rollups).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone

from messaging import outcomes
from messaging.billing.pricing import provider_label
from messaging.broadcasts import daily, progress, schedule
from messaging.delivery import error_codes
from messaging.models import (
    BILLED_STATUSES,
    Broadcast,
    BroadcastState,
    DailyContent,
    DailyRollup,
    Direction,
    Message,
    MessageStatus,
    PhoneMonthlySpend,
)
from messaging.outcomes import Bucket, Outcomes
from messaging.reports import rollups
from messaging.reports.rollups import (
    DIMENSIONS,
    ZERO,
    day_start,
    measures,
    messages_between,
    month_start,
    trunc_day,
)
from smsbot.timezones import shown
from subscribers.models import Channel, ConsentEvent, ConsentStatus, Subscriber

# The reports' delivered and failed are the outcome model's buckets.
SUCCESS_STATUSES = tuple(outcomes.statuses(Bucket.DELIVERED))
FAILURE_STATUSES = tuple(outcomes.statuses(Bucket.FAILED))
UNKNOWN_STATUSES = tuple(outcomes.statuses(Bucket.UNKNOWN))
MEASURES = ("messages", "segments", "cost_estimated", "cost_actual", "priced", "estimated_priced")


@dataclass(frozen=True)
class Fact:
    """Totals of the messages of one day sharing every dimension."""

    day: date
    direction: str
    kind: str
    channel: str
    provider: str
    status: str
    error_code: str
    messages: int
    segments: int
    cost_estimated: Decimal
    cost_actual: Decimal
    priced: int
    estimated_priced: Decimal

    @property
    def cost(self) -> Decimal:
        """Actual price where the provider reported one, the estimate otherwise."""
        return self.cost_actual + self.cost_estimated - self.estimated_priced

    @property
    def billed(self) -> bool:
        return self.direction == Direction.OUTBOUND and self.status in BILLED_STATUSES


def load_facts(
    start: date,
    end: date,
    live_from: date | None = None,
    covered: rollups.Coverage | None = None,
) -> list[Fact]:
    """Facts for UTC days [start, end): the rollups where they cover, live elsewhere.

    live_from forces days from that one on to be computed live; covered is the
    rollups' coverage when the caller has it already.
    """
    covered = covered or rollups.coverage()
    if live_from is not None:
        covered = rollups.Coverage(covered.start, min(covered.end, live_from))
    live, (rolled_start, rolled_end) = covered.split(start, end)
    facts: list[Fact] = []
    if rolled_start < rolled_end:
        rows = DailyRollup.objects.filter(day__gte=rolled_start, day__lt=rolled_end).values(
            "day", *DIMENSIONS, *MEASURES
        )
        facts += [Fact(**row) for row in rows]
    for live_start, live_end in live:
        groups = (
            messages_between(live_start, live_end)
            .annotate(day=trunc_day("created_at"))
            .order_by()
            .values("day", *DIMENSIONS)
            .annotate(**measures())
        )
        facts += [Fact(**g) for g in groups]
    return facts


def _decimal(value: Decimal | float | int) -> Decimal:
    # SQLite hands sums back as floats; money is shown to the cent, kept to 5 places.
    return Decimal(str(value)).quantize(Decimal("0.00001"))


# --- Spend -------------------------------------------------------------------------
@dataclass(frozen=True)
class MonthSpend:
    month: date
    spend: Decimal
    limit: Decimal
    day_of_month: int
    days_in_month: int

    @property
    def percent_of_limit(self) -> float | None:
        return float(self.spend / self.limit * 100) if self.limit > 0 else None

    @property
    def projection(self) -> Decimal:
        """Straight-line projection of this month's spend to its last day."""
        return _decimal(self.spend / self.day_of_month * self.days_in_month)

    @property
    def projected_over_limit(self) -> bool:
        return self.limit > 0 and self.projection > self.limit


def month_to_date_spend(facts: Iterable[Fact], today: date) -> MonthSpend:
    first = month_start(today)
    spend = sum((f.cost for f in facts if f.billed and first <= f.day <= today), ZERO)
    return MonthSpend(
        month=first,
        spend=_decimal(spend),
        limit=Decimal(settings.SMS_MONTHLY_SPEND_LIMIT_USD),
        day_of_month=today.day,
        days_in_month=calendar.monthrange(today.year, today.month)[1],
    )


def spend_per_day(facts: Iterable[Fact], start: date, end: date) -> list[tuple[date, Decimal]]:
    """Billed spend of each day in [start, end), days without messages included."""
    totals: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for f in facts:
        if f.billed:
            totals[f.day] += f.cost
    return [(day, _decimal(totals[day])) for day in days_between(start, end)]


@dataclass(frozen=True)
class Spend:
    key: tuple[str, ...]
    messages: int
    segments: int
    cost: Decimal


def spend_by(facts: Iterable[Fact], dims: Sequence[str], start: date) -> list[Spend]:
    """Billed spend since start grouped by dims, largest first."""
    groups: dict[tuple[str, ...], list[Fact]] = defaultdict(list)
    for f in facts:
        if f.billed and f.day >= start:
            groups[tuple(getattr(f, d) for d in dims)].append(f)
    rows = [
        Spend(
            key=key,
            messages=sum(f.messages for f in group),
            segments=sum(f.segments for f in group),
            cost=_decimal(sum((f.cost for f in group), ZERO)),
        )
        for key, group in groups.items()
    ]
    return sorted(rows, key=lambda r: (-r.cost, r.key))


@dataclass(frozen=True)
class NumberSpend:
    phone: str
    messages: int
    cost: Decimal


def top_numbers(month: date, limit: int = 10) -> tuple[list[NumberSpend], datetime | None]:
    """The numbers that cost most this month, and when that was last computed."""
    rows = list(
        PhoneMonthlySpend.objects.filter(month=month_start(month)).order_by("-cost", "phone")[
            :limit
        ]
    )
    as_of = max((r.refreshed_at for r in rows), default=None)
    return [NumberSpend(r.phone, r.messages, _decimal(r.cost)) for r in rows], as_of


# --- Delivery ------------------------------------------------------------------------
@dataclass(frozen=True)
class SuccessRate:
    days: int
    start: date
    delivered: int
    failed: int
    awaiting: int  # sent, no delivery report yet
    # Sent, and no report came within the provider's horizon: in the denominator, as a
    # message that may not have arrived (never silently counted as sent).
    unknown: int = 0

    @property
    def rate(self) -> float | None:
        settled = self.delivered + self.failed + self.unknown
        return self.delivered / settled * 100 if settled else None


def delivery_success(facts: Iterable[Fact], today: date, days: int) -> SuccessRate:
    """Delivered against failed and unknown over the last `days` days (today included)."""
    start = today - timedelta(days=days - 1)
    counts: dict[str, int] = defaultdict(int)
    for f in facts:
        if f.direction == Direction.OUTBOUND and start <= f.day <= today:
            counts[f.status] += f.messages
    return SuccessRate(
        days=days,
        start=start,
        delivered=sum(counts[s] for s in SUCCESS_STATUSES),
        failed=sum(counts[s] for s in FAILURE_STATUSES),
        awaiting=counts[MessageStatus.SENT],
        unknown=sum(counts[s] for s in UNKNOWN_STATUSES),
    )


@dataclass(frozen=True)
class ErrorCount:
    code: str
    meaning: str
    messages: int


def failures_by_error_code(facts: Iterable[Fact], start: date) -> list[ErrorCount]:
    counts: dict[str, int] = defaultdict(int)
    for f in facts:
        if f.direction == Direction.OUTBOUND and f.status in FAILURE_STATUSES and f.day >= start:
            counts[f.error_code] += f.messages
    rows = [
        ErrorCount(code, error_codes.meaning(code) or "No error code reported", n)
        for code, n in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r.messages, r.code))


# --- Consent ---------------------------------------------------------------------------
def consent_per_day(start: date, end: date) -> list[tuple[date, int, int]]:
    """(day, opt-ins, opt-outs) for each day in [start, end), from the consent evidence trail."""
    groups = (
        ConsentEvent.objects.filter(
            created_at__gte=day_start(start),
            created_at__lt=day_start(end),
            to_status__in=[ConsentStatus.OPTED_IN, ConsentStatus.OPTED_OUT],
        )
        .annotate(day=trunc_day("created_at"))
        .order_by()
        .values("day", "to_status")
        .annotate(n=Count("id"))
    )
    counts = {(g["day"], g["to_status"]): g["n"] for g in groups}
    return [
        (
            day,
            counts.get((day, ConsentStatus.OPTED_IN), 0),
            counts.get((day, ConsentStatus.OPTED_OUT), 0),
        )
        for day in days_between(start, end)
    ]


# --- Broadcasts -----------------------------------------------------------------------
# Every screen's words and figures for a broadcast's progress come from here,
# with its counts from messaging.outcomes (through progress.shown).


def state_label(broadcast: Broadcast) -> str:
    if broadcast.state == BroadcastState.SCHEDULED and broadcast.scheduled_for:
        return f"Scheduled for {shown(broadcast.scheduled_for)}"
    if broadcast.state == BroadcastState.PAUSED and broadcast.pause_reason:
        return f"Paused: {broadcast.pause_reason}"
    return broadcast.get_state_display()


def progress_label(broadcast: Broadcast, counts: Outcomes) -> str:
    if broadcast.state in (BroadcastState.DRAFT, BroadcastState.SCHEDULED):
        return "Not sent yet"
    if not broadcast.fanout_done:
        if not counts.total:
            return "Preparing the recipients…"
        return f"{counts.summary} — still adding recipients"
    return counts.summary


def may_move(broadcast: Broadcast, counts: Outcomes) -> bool:
    """Its figures may still change: waiting, sending, paused, reports still to come, or
    replies, STOPs and PAUSEs still counting towards it (BROADCAST_ATTRIBUTION_HOURS)."""
    if broadcast.state in (BroadcastState.SCHEDULED, BroadcastState.SENDING, BroadcastState.PAUSED):
        return True
    if broadcast.state != BroadcastState.DONE:
        return False
    attributing = timedelta(hours=settings.BROADCAST_ATTRIBUTION_HOURS)
    finished = broadcast.finished_at
    return counts.awaiting_reports or (
        finished is not None and finished + attributing > timezone.now()
    )


@dataclass(frozen=True)
class ChannelSplit:
    """A broadcast's messages by the channel they go by, whatever their outcome (so the
    channels add up to its total, as the buckets do); fallback: those of them sent by
    e-mail because the subscriber's number became undeliverable (FALLBACK_CHANNEL),
    counted among the e-mail ones."""

    counts: dict[str, int] = field(default_factory=dict)
    fallback: int = 0

    def __getitem__(self, channel: str) -> int:
        return self.counts.get(channel, 0)

    @property
    def text(self) -> dict[str, str]:
        """The fields the screens show and broadcast_live.js refreshes, by name."""
        return {
            **{f"{CHANNEL_FIELD}{ch}": str(self[ch]) for ch, _ in Channel.choices},
            FALLBACK_FIELD: str(self.fallback),
        }

    def rows(self) -> list[tuple[str, str, int, dict[str, str]]]:
        """(live field, label, messages, the message list's filter) per channel, the
        fallback ones right after e-mail, for screens to link to those messages."""
        found = []
        for channel, label in Channel.choices:
            where = {"channel__exact": channel}
            found.append((f"{CHANNEL_FIELD}{channel}", label, self[channel], where))
            if channel == Channel.EMAIL:
                where = {"channel__exact": channel, "fallback__exact": "1"}
                found.append((FALLBACK_FIELD, FALLBACK_LABEL, self.fallback, where))
        return found


# The live field names of ChannelSplit.text: "channel_sms", …, and "fallback".
CHANNEL_FIELD = "channel_"
FALLBACK_FIELD = "fallback"
FALLBACK_LABEL = "E-mail fallback (number undeliverable)"


def _channel_split(tally: outcomes.Tally) -> ChannelSplit:
    return ChannelSplit(dict(tally.channels), tally.fallback)


@dataclass(frozen=True)
class BroadcastFigures:
    """What the screens of one broadcast (its page, its dashboard card, their refresh)
    show of it: outcome counts, messages by channel, and what its billed messages cost."""

    counts: Outcomes
    channels: ChannelSplit
    spent: Decimal

    @property
    def text(self) -> dict[str, str]:
        """Its live fields beyond the outcome counts, by name."""
        return {**self.channels.text, SPENT_FIELD: f"{self.spent:.4f}"}


# The live field of a broadcast's spend so far, in USD.
SPENT_FIELD = "spent"


def broadcast_figures_of(
    broadcasts: Sequence[Broadcast], now: datetime | None = None
) -> dict[int, BroadcastFigures]:
    """Each broadcast's figures from one pass over its messages (outcomes.tallies_of).

    The channel split and spend are counted live, not stored with the outcome recount:
    only the screens of one broadcast show them, never the list.
    """
    tallies = outcomes.tallies_of([b.pk for b in broadcasts])
    counts = progress.shown(broadcasts, now, tallies)
    return {
        b.pk: BroadcastFigures(counts[b.pk], _channel_split(tallies[b.pk]), tallies[b.pk].spent)
        for b in broadcasts
    }


def broadcast_live(
    broadcast: Broadcast, counts: Outcomes, detail: BroadcastFigures | None = None
) -> dict[str, Any]:
    """A broadcast's progress as every screen shows it: the pages render it and the one
    progress view serves it, as JSON, to broadcast_live.js. detail: its channel split
    and spend, where the screen shows them (not on the list)."""
    return {
        "id": broadcast.pk,
        "state": broadcast.state,
        "live": may_move(broadcast, counts),
        "value": counts.processed,
        "max": max(counts.total, 1),
        "percent": counts.percent,
        "text": {
            "state": state_label(broadcast),
            "progress": progress_label(broadcast, counts),
            "holds": counts.held_text,
            "started": shown(broadcast.started_at) if broadcast.started_at else "—",
            "total": str(counts.total),
            **{bucket: str(counts[bucket]) for bucket, _ in outcomes.BUCKETS},
            **(detail.text if detail else {}),
        },
    }


def daily_broadcast(day: date) -> Broadcast | None:
    """The daily send of day (the send timezone's date), with what it caused."""
    return (
        Broadcast.objects.filter(idempotency_key=daily.key_for(day))
        .select_related("attribution")
        .first()
    )


def adhoc_broadcasts(since: datetime, limit: int = 5) -> list[Broadcast]:
    """Broadcasts other than the daily send, sending or created since `since`, newest
    first, with what they caused."""
    return list(
        Broadcast.objects.exclude(idempotency_key__startswith=schedule.DAILY_KEY_PREFIX)
        .filter(Q(state=BroadcastState.SENDING) | Q(created_at__gte=since))
        .select_related("attribution")
        .order_by("-created_at")[:limit]
    )


# --- Subscribers and daily content -------------------------------------------------------
@dataclass(frozen=True)
class ActiveTrend:
    channel: str
    label: str
    now: int
    per_day: list[tuple[date, int]]  # opted in at the end of each day


def active_subscribers(start: date, end: date) -> list[ActiveTrend]:
    """Opted-in subscribers per channel now, and at the end of each UTC day in [start, end).

    Past counts are worked back from today's through the consent events since
    start (each one that enters or leaves opted_in), by the subscriber's channel.
    """
    now = dict(
        Subscriber.objects.filter(consent_status=ConsentStatus.OPTED_IN)
        .order_by()
        .values_list("channel")
        .annotate(n=Count("id"))
    )
    changes = (
        ConsentEvent.objects.filter(created_at__gte=day_start(start))
        .filter(Q(to_status=ConsentStatus.OPTED_IN) | Q(from_status=ConsentStatus.OPTED_IN))
        .exclude(from_status=F("to_status"))
        .annotate(day=trunc_day("created_at"))
        .order_by()
        .values("day", "subscriber__channel", "to_status")
        .annotate(n=Count("id"))
    )
    net: dict[tuple[date, str], int] = defaultdict(int)
    for c in changes:
        sign = 1 if c["to_status"] == ConsentStatus.OPTED_IN else -1
        net[(c["day"], c["subscriber__channel"])] += sign * c["n"]
    trends = []
    for channel, label in Channel.choices:
        count = now.get(channel, 0)
        # Undo, newest day first, the changes made after each day's end.
        after = sum(n for (day, ch), n in net.items() if ch == channel and day >= end)
        per_day = []
        for day in reversed(days_between(start, end)):
            count_then = count - after
            per_day.append((day, count_then))
            after += net.get((day, channel), 0)
        trends.append(ActiveTrend(channel, label, count, per_day[::-1]))
    return trends


@dataclass(frozen=True)
class DayContent:
    day: date
    content: DailyContent | None
    fallback: bool  # no content of its own, DAILY_FALLBACK_TEXT goes instead

    @property
    def missing(self) -> bool:
        return self.content is None and not self.fallback


def upcoming_content(first: date, days: int = 7) -> list[DayContent]:
    """The daily content of days first … first + days - 1 (send-timezone dates)."""
    wanted = days_between(first, first + timedelta(days=days))
    have = {c.date: c for c in DailyContent.objects.filter(date__in=wanted)}
    fallback = bool(settings.DAILY_FALLBACK_TEXT)
    return [DayContent(d, have.get(d), d not in have and fallback) for d in wanted]


# --- Cost report -------------------------------------------------------------------------
@dataclass(frozen=True)
class CostRow:
    month: date
    provider: str
    channel: str
    messages: int
    segments: int
    estimated: Decimal
    actual: Decimal
    priced: int
    estimated_priced: Decimal

    @property
    def cost(self) -> Decimal:
        return self.actual + self.estimated - self.estimated_priced

    @property
    def difference(self) -> Decimal:
        """Actual minus estimate, over the messages that have an actual price."""
        return self.actual - self.estimated_priced

    @property
    def unpriced(self) -> int:
        """Messages whose cost is still our estimate: no price reported yet."""
        return self.messages - self.priced

    @property
    def basis(self) -> str:
        """Whether the cost is the providers' prices, our estimates, or some of each."""
        if not self.unpriced:
            return "actual"
        if not self.priced:
            return "estimated"
        return f"{self.unpriced} of {self.messages} estimated"

    @property
    def provider_label(self) -> str:
        return provider_label(self.provider)

    @property
    def channel_label(self) -> str:
        return channel_label(self.channel)


def channel_label(code: str) -> str:
    return dict(Channel.choices).get(code, code)


def cost_rows(facts: Iterable[Fact]) -> list[CostRow]:
    """Billed outbound messages month by month, per provider and channel, newest first."""
    groups: dict[tuple[date, str, str], list[Fact]] = defaultdict(list)
    for f in facts:
        if f.billed:
            groups[(month_start(f.day), f.provider, f.channel)].append(f)
    rows = [_cost_row(month, provider, channel, group)
            for (month, provider, channel), group in groups.items()]  # fmt: skip
    return sorted(rows, key=lambda r: (-r.month.toordinal(), r.provider, r.channel))


def cost_total(facts: Iterable[Fact], month: date) -> CostRow:
    """Every billed fact added up, as one row (provider and channel "all")."""
    return _cost_row(month, "all", "all", [f for f in facts if f.billed])


def _cost_row(month: date, provider: str, channel: str, group: list[Fact]) -> CostRow:
    return CostRow(
        month=month,
        provider=provider,
        channel=channel,
        messages=sum(f.messages for f in group),
        segments=sum(f.segments for f in group),
        estimated=_decimal(sum((f.cost_estimated for f in group), ZERO)),
        actual=_decimal(sum((f.cost_actual for f in group), ZERO)),
        priced=sum(f.priced for f in group),
        estimated_priced=_decimal(sum((f.estimated_priced for f in group), ZERO)),
    )


def cost_report(start: date, end: date) -> list[CostRow]:
    """The cost rows of UTC days [start, end)."""
    return cost_rows(load_facts(start, end))


def spend_by_provider(
    facts: Iterable[Fact], periods: Sequence[date], period_of: Callable[[date], date]
) -> dict[str, list[Decimal]]:
    """Billed spend per provider in each period (period_of maps a day to its period)."""
    index = {p: i for i, p in enumerate(periods)}
    spend: dict[str, list[Decimal]] = {}
    for f in facts:
        if f.billed and period_of(f.day) in index:
            row = spend.setdefault(f.provider, [ZERO] * len(periods))
            row[index[period_of(f.day)]] += f.cost
    return {p: [_decimal(v) for v in values] for p, values in sorted(spend.items())}


def first_message_day() -> date | None:
    first = Message.objects.order_by("created_at").values_list("created_at", flat=True).first()
    return rollups.day_of(first) if first else None


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range(max(0, (end - start).days))]
