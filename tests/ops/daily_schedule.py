"""Put today's daily send a given time in the past, on any day at any hour of the test run.

The daily-broadcast periodic task's crontab is set in a fixed-offset timezone where
it is now between 06:00 and 18:00, so "due N minutes ago" never crosses midnight.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django_celery_beat.models import CrontabSchedule, PeriodicTask

from messaging.broadcasts.schedule import PERIODIC_TASK_NAME, ensure_daily_schedule


def daytime_zone(now: datetime) -> ZoneInfo:
    """A fixed-offset zone (Etc/GMT±N) in which it is daytime at now."""
    # Offsets -11 to +13 cover every hour of the day and leave a neighbour on each side.
    for hours in range(-11, 14):
        # POSIX-style names: Etc/GMT+5 is five hours behind UTC.
        name = "Etc/GMT" if hours == 0 else f"Etc/GMT{-hours:+d}"
        zone = ZoneInfo(name)
        if 6 <= now.astimezone(zone).hour < 18:
            return zone
    raise AssertionError("no daytime zone")  # cannot happen: offsets span 25 hours


def due_minutes_ago(minutes: int, now: datetime | None = None) -> datetime:
    """Make the daily send due `minutes` ago (a whole minute); returns that time."""
    now = now or datetime.now(UTC)
    zone = daytime_zone(now)
    due = (now - timedelta(minutes=minutes)).astimezone(zone).replace(second=0, microsecond=0)
    ensure_daily_schedule()
    crontab = CrontabSchedule.objects.create(
        minute=str(due.minute), hour=str(due.hour), day_of_week="*", day_of_month="*",
        month_of_year="*", timezone=str(zone),
    )  # fmt: skip
    PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME).update(crontab=crontab, enabled=True)
    return due


def neighbour_zone(zone: ZoneInfo, hours: int) -> str:
    """The Etc/GMT zone `hours` east (+) or west (-) of a fixed-offset zone."""
    offset = int(datetime.now(UTC).astimezone(zone).utcoffset().total_seconds() // 3600) + hours
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
