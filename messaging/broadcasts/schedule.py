"""The "daily-broadcast" periodic task, created once after migrate and then left alone.

The crontab carries DAILY_SEND_TIMEZONE, so django-celery-beat fires it at the
local wall-clock time (10:00 America/Chicago stays 10:00 across DST). Operators
edit it in the admin; later migrations never overwrite their change.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from messaging import task_names

PERIODIC_TASK_NAME = "daily-broadcast"


def parse_send_time(value: str) -> tuple[int, int]:
    try:
        hour, minute = (int(part) for part in value.split(":"))
    except ValueError:
        raise ImproperlyConfigured(f"DAILY_SEND_TIME must be HH:MM, not {value!r}") from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ImproperlyConfigured(f"DAILY_SEND_TIME out of range: {value!r}")
    return hour, minute


def ensure_daily_schedule(using: str = "default", **kwargs: Any) -> bool:
    """Create the periodic task if missing; True when it was created."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    if PeriodicTask.objects.using(using).filter(name=PERIODIC_TASK_NAME).exists():
        return False
    hour, minute = parse_send_time(settings.DAILY_SEND_TIME)
    crontab, _ = CrontabSchedule.objects.using(using).get_or_create(
        minute=str(minute),
        hour=str(hour),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.DAILY_SEND_TIMEZONE,
    )
    _, created = PeriodicTask.objects.using(using).get_or_create(
        name=PERIODIC_TASK_NAME,
        defaults={
            "crontab": crontab,
            "task": task_names.START_DAILY_BROADCAST,
            "description": "The daily broadcast",
        },
    )
    return created
