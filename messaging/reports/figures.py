"""Aggregate figures for the operations views, as plain functions.

Closed days come from the daily rollups; today comes straight from Message
(the created_at index keeps one day cheap), so the figures are live without
scanning months of messages. `load_facts` fetches both once; the functions
below only add them up, so a page makes a handful of queries whatever the
table size.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from messaging.delivery import error_codes
from messaging.models import (
    BILLED_STATUSES,
    Broadcast,
    DailyRollup,
    Direction,
    MessageStatus,
    PhoneMonthlySpend,
)
from messaging.reports.rollups import (
    DIMENSIONS,
    ZERO,
    day_start,
    measures,
    messages_between,
    month_start,
)
from subscribers.models import ConsentEvent, ConsentStatus

SUCCESS_STATUSES = (MessageStatus.DELIVERED, MessageStatus.READ)
FAILURE_STATUSES = (MessageStatus.FAILED, MessageStatus.UNDELIVERED)
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


def load_facts(start: date, end: date, today: date | None = None) -> list[Fact]:
    """Facts for days [start, end): rollups before today, live messages from today on."""
    today = today or timezone.localdate()
    facts: list[Fact] = []
    if start < min(end, today):
        rows = DailyRollup.objects.filter(day__gte=start, day__lt=min(end, today)).values(
            "day", *DIMENSIONS, *MEASURES
        )
        facts += [Fact(**row) for row in rows]
    live_from = max(start, today)
    if live_from < end:
        groups = (
            messages_between(live_from, end)
            .annotate(day=TruncDate("created_at"))
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

    @property
    def rate(self) -> float | None:
        settled = self.delivered + self.failed
        return self.delivered / settled * 100 if settled else None


def delivery_success(facts: Iterable[Fact], today: date, days: int) -> SuccessRate:
    """Delivered against failed over the last `days` days (today included)."""
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
        .annotate(day=TruncDate("created_at"))
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


# --- Broadcast -------------------------------------------------------------------------
@dataclass(frozen=True)
class BroadcastProgress:
    broadcast: Broadcast
    total: int
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        """Accepted by the provider and not reported failed."""
        return sum(self.by_status.get(s, 0) for s in (*SUCCESS_STATUSES, MessageStatus.SENT))

    @property
    def failed(self) -> int:
        return sum(self.by_status.get(s, 0) for s in FAILURE_STATUSES)

    @property
    def skipped(self) -> int:
        return self.by_status.get(MessageStatus.SKIPPED, 0)

    @property
    def queued(self) -> int:
        return self.by_status.get(MessageStatus.QUEUED, 0)

    @property
    def percent_done(self) -> float:
        finished = self.sent + self.failed + self.skipped
        return min(100.0, finished / self.total * 100) if self.total else 0.0


def todays_broadcast(today: date) -> BroadcastProgress | None:
    """The latest broadcast for today (by date, or created today), with live counts."""
    broadcast = (
        Broadcast.objects.filter(
            Q(date=today) | Q(date__isnull=True, created_at__gte=day_start(today))
        )
        .order_by("-created_at")
        .first()
    )
    if broadcast is None:
        return None
    # The (broadcast, status) index answers this without reading message rows.
    counts = {
        row["status"]: row["n"]
        for row in broadcast.messages.order_by().values("status").annotate(n=Count("id"))
    }
    return BroadcastProgress(broadcast, max(broadcast.total, sum(counts.values())), counts)


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


def cost_report(today: date | None = None) -> list[CostRow]:
    """Billed outbound messages month by month, per provider and channel, newest first."""
    today = today or timezone.localdate()
    billed = {"direction": Direction.OUTBOUND, "status__in": BILLED_STATUSES}
    sums = {
        "messages": Sum("messages"),
        "segments": Sum("segments"),
        "estimated": Sum("cost_estimated"),
        "actual": Sum("cost_actual"),
        "priced": Sum("priced"),
        "estimated_priced": Sum("estimated_priced"),
    }
    totals: dict[tuple[date, str, str], dict[str, Decimal | int]] = {}

    def add(month: date, provider: str, channel: str, values: dict) -> None:
        row = totals.setdefault((month, provider, channel), dict.fromkeys(sums, 0))
        for name in sums:
            row[name] += values[name] or 0

    closed = (
        DailyRollup.objects.filter(day__lt=today, **billed)
        .annotate(month=TruncMonth("day"))
        .order_by()
        .values("month", "provider", "channel")
        .annotate(**sums)
    )
    for g in closed:
        add(g["month"], g["provider"], g["channel"], g)
    for f in load_facts(today, today + timedelta(days=1), today):
        if f.billed:
            add(month_start(today), f.provider, f.channel, _fact_sums(f))
    return [
        CostRow(
            month=month,
            provider=provider,
            channel=channel,
            messages=int(v["messages"]),
            segments=int(v["segments"]),
            estimated=_decimal(v["estimated"]),
            actual=_decimal(v["actual"]),
            priced=int(v["priced"]),
            estimated_priced=_decimal(v["estimated_priced"]),
        )
        for (month, provider, channel), v in sorted(
            totals.items(), key=lambda kv: (-kv[0][0].toordinal(), kv[0][1], kv[0][2])
        )
    ]


def _fact_sums(f: Fact) -> dict[str, Decimal | int]:
    return {
        "messages": f.messages,
        "segments": f.segments,
        "estimated": f.cost_estimated,
        "actual": f.cost_actual,
        "priced": f.priced,
        "estimated_priced": f.estimated_priced,
    }


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]
