"""Daily rollups of the message table, recomputed per day from Message.

Recomputing a whole day (delete + insert in one transaction) rather than
adding deltas keeps the rollup right whatever wrote the messages — bulk
updates, late status callbacks, prices that arrive hours later — because it
never depends on seeing every change. A beat task refreshes the last few
days, catches up after an outage and rolls up older history a stretch at a
time, so a fresh install needs no command; `manage.py refresh_rollups`
rebuilds any range. Reports read covered days from here and the rest (today,
days not rolled up yet) straight from Message.

Days and months are UTC ones, whatever timezone a page shows times in: the
monthly budget and AWS's own spend limit and bills count the UTC calendar,
so "spend this month" means the same thing on every screen.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from messaging.models import BILLED_STATUSES, COST, DailyRollup, Message, PhoneMonthlySpend

DIMENSIONS = ("direction", "kind", "channel", "provider", "status", "error_code")
ZERO = Decimal("0")
REPORT_TIMEZONE = UTC
# When the last refresh run finished (its days before that day are rolled up).
LAST_RUN_KEY = "messaging:rollups:last-run"
# A run catches up at most this far back after an outage of beat...
CATCH_UP_DAYS = 92
# ...and rolls up this many days of older history (imported, or from before the
# rollups existed) per run, newest first, so a big history never makes one long run.
BACKFILL_DAYS = 31


def today() -> date:
    """The current UTC day, the reports' day."""
    return timezone.now().astimezone(REPORT_TIMEZONE).date()


def day_of(moment: datetime) -> date:
    return moment.astimezone(REPORT_TIMEZONE).date()


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of day, aware."""
    return datetime.combine(day, time.min, tzinfo=REPORT_TIMEZONE)


def trunc_day(field: str) -> TruncDate:
    """The UTC day of a datetime column, in SQL."""
    return TruncDate(field, tzinfo=REPORT_TIMEZONE)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def measures() -> dict[str, object]:
    """The rollup's sums, as ORM aggregates over Message."""
    priced = Q(price_actual__isnull=False)
    return {
        "messages": Count("id"),
        "segments": Coalesce(Sum("segments"), 0),
        "cost_estimated": Coalesce(Sum("price_estimated"), ZERO),
        "cost_actual": Coalesce(Sum("price_actual"), ZERO),
        "priced": Count("id", filter=priced),
        "estimated_priced": Coalesce(Sum("price_estimated", filter=priced), ZERO),
    }


def messages_between(start: date, end: date) -> QuerySet[Message]:
    """Messages created on UTC days [start, end), by the created_at index."""
    return Message.objects.filter(created_at__gte=day_start(start), created_at__lt=day_start(end))


def refresh_day(day: date) -> int:
    """Recompute the rollup rows of one day; returns how many rows it now has."""
    now = timezone.now()
    groups = (
        messages_between(day, day + timedelta(days=1))
        .order_by()
        .values(*DIMENSIONS)
        .annotate(**measures())
    )
    rows = [DailyRollup(day=day, refreshed_at=now, **group) for group in groups]
    with transaction.atomic():
        DailyRollup.objects.filter(day=day).delete()
        DailyRollup.objects.bulk_create(rows)
    return len(rows)


def refresh_phone_month(month: date) -> int:
    """Recompute per-number spend for the month that contains `month`."""
    first = month_start(month)
    now = timezone.now()
    groups = (
        messages_between(first, next_month(first))
        .filter(direction="outbound", status__in=BILLED_STATUSES)
        .order_by()
        .values("phone")
        .annotate(
            messages=Count("id"),
            segments=Coalesce(Sum("segments"), 0),
            cost=Coalesce(Sum(COST), ZERO),
        )
    )
    with transaction.atomic():
        PhoneMonthlySpend.objects.filter(month=first).delete()
        rows = (PhoneMonthlySpend(month=first, refreshed_at=now, **g) for g in groups.iterator())
        created = PhoneMonthlySpend.objects.bulk_create(rows, batch_size=2000)
    return len(created)


def refresh(start: date, end: date) -> dict[str, int]:
    """Recompute days [start, end) and the per-number spend of the months they touch."""
    days = 0
    day = start
    while day < end:
        refresh_day(day)
        days += 1
        day += timedelta(days=1)
    months = 0
    month = month_start(start)
    while month < end:
        refresh_phone_month(month)
        months += 1
        month = next_month(month)
    return {"days": days, "months": months}


def refresh_recent(days: int | None = None) -> dict[str, int]:
    """The beat task's run: recent days, a catch-up, and a stretch of older history.

    The last `days` days and today are recomputed (late callbacks and prices);
    if the previous run is older than that (beat was down), from its day on;
    then up to BACKFILL_DAYS older days that have messages and no rollup yet.
    """
    days = settings.ROLLUP_REFRESH_DAYS if days is None else days
    now = today()
    start = now - timedelta(days=days)
    previous = last_refreshed()
    if previous is not None:
        start = max(min(start, day_of(previous)), now - timedelta(days=CATCH_UP_DAYS))
    result = refresh(start, now + timedelta(days=1))
    result["backfilled"] = backfill(before=start)
    cache.set(LAST_RUN_KEY, timezone.now(), timeout=None)
    return result


def backfill(before: date, days: int = BACKFILL_DAYS) -> int:
    """Roll up the latest `days` days of history older than every rollup; days done.

    Every day from the oldest rollup on is rolled up (this keeps it so: each
    stretch ends at the newest message before that day), so the stretch to do
    next always ends at the newest message older than both.
    """
    oldest = DailyRollup.objects.aggregate(day=Min("day"))["day"]
    boundary = min(before, oldest) if oldest else before
    newest = (
        Message.objects.filter(created_at__lt=day_start(boundary))
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if newest is None:
        return 0
    end = day_of(newest) + timedelta(days=1)
    return refresh(end - timedelta(days=days), end)["days"]


def last_refreshed() -> datetime | None:
    """When the rollups were last refreshed (the last run, or the newest row)."""
    newest_row = DailyRollup.objects.aggregate(at=Max("refreshed_at"))["at"]
    moments = [m for m in (cache.get(LAST_RUN_KEY), newest_row) if m is not None]
    return max(moments, default=None)


@dataclass(frozen=True)
class Coverage:
    """Days [start, end) are rolled up; reports compute any other day live."""

    start: date
    end: date
    refreshed: datetime | None = None  # when the rollups were last refreshed

    def split(self, first: date, last: date) -> tuple[list[tuple[date, date]], tuple[date, date]]:
        """[first, last) as (live ranges, rolled-up range); empty ranges have start >= end."""
        rolled = (max(first, self.start), min(last, self.end))
        live = [(first, min(last, self.start)), (max(first, self.end), last)]
        if rolled[0] >= rolled[1]:
            live = [(first, last)]
        return [r for r in live if r[0] < r[1]], rolled


def coverage() -> Coverage:
    """The days the rollups hold: from the oldest rolled-up day to the last refresh's day.

    A refresh recomputes every day since the previous one, so a day before the
    last refresh's day was recomputed after it closed. Nothing refreshed yet:
    an empty range, and reports are live.
    """
    refreshed = last_refreshed()
    if refreshed is None:
        return Coverage(today(), today())
    end = day_of(refreshed)
    oldest = DailyRollup.objects.aggregate(day=Min("day"))["day"]
    return Coverage(min(oldest, end) if oldest else end, end, refreshed)
