"""Daily rollups of the message table, recomputed per day from Message.

Recomputing a whole day (delete + insert in one transaction) rather than
adding deltas keeps the rollup right whatever wrote the messages — bulk
updates, late status callbacks, prices that arrive hours later — because it
never depends on seeing every change. A beat task refreshes the last few
days; `manage.py refresh_rollups` rebuilds any range. Reports read closed
days from here and today straight from Message.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from messaging.models import BILLED_STATUSES, COST, DailyRollup, Message, PhoneMonthlySpend

DIMENSIONS = ("direction", "kind", "channel", "provider", "status", "error_code")
ZERO = Decimal("0")


def day_start(day: date) -> datetime:
    """Midnight at the start of day in the reporting (current) timezone, aware."""
    return timezone.make_aware(datetime.combine(day, time.min))


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
    """Messages created on days [start, end) (reporting timezone), by the created_at index."""
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
    """Refresh the last `days` days up to and including today (late callbacks, prices)."""
    days = settings.ROLLUP_REFRESH_DAYS if days is None else days
    today = timezone.localdate()
    return refresh(today - timedelta(days=days), today + timedelta(days=1))


def last_refreshed() -> datetime | None:
    latest = DailyRollup.objects.order_by("-refreshed_at").values_list("refreshed_at", flat=True)
    return latest.first()
