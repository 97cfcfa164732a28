"""The "daily-broadcast" periodic task, created once after migrate and then left alone.

The crontab carries DAILY_SEND_TIMEZONE, so django-celery-beat fires it at the
local wall-clock time (10:00 America/Chicago stays 10:00 across DST). Operators
edit it in the admin; later migrations never overwrite their change. The task's
kwargs carry the mode: {"mode": "same_moment"} (the default) sends at that
moment to everyone; {"mode": "local_time"} sends at that time on each
subscriber's own clock, in waves (messaging.broadcasts.waves).
"""

import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from messaging import task_names
from messaging.models import SendMode
from subscribers import localtime

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


@dataclass(frozen=True)
class DailySchedule:
    hour: int
    minute: int
    timezone: str
    enabled: bool
    mode: str  # a SendMode value

    @property
    def send_time(self) -> time:
        return time(self.hour, self.minute)

    @property
    def local_time(self) -> bool:
        return self.mode == SendMode.LOCAL_TIME


def current() -> DailySchedule:
    """The daily schedule as the periodic task holds it (the settings if it is gone)."""
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.select_related("crontab").filter(name=PERIODIC_TASK_NAME).first()
    if task is None or task.crontab is None:
        hour, minute = parse_send_time(settings.DAILY_SEND_TIME)
        zone = settings.DAILY_SEND_TIMEZONE
        return DailySchedule(hour, minute, zone, False, SendMode.SAME_MOMENT)
    mode = json.loads(task.kwargs or "{}").get("mode", SendMode.SAME_MOMENT)
    return DailySchedule(
        int(task.crontab.hour),
        int(task.crontab.minute),
        str(task.crontab.timezone),
        task.enabled,
        mode if mode in SendMode.values else SendMode.SAME_MOMENT,
    )


def next_send(zone_name: str, preferred: time | None, after: datetime) -> datetime | None:
    """The first daily send after a moment for a subscriber in zone_name (UTC), or None
    while the schedule is disabled. In local mode it is their own send time (preferred,
    else the schedule's) on their clock; otherwise the schedule's moment."""
    schedule = current()
    if not schedule.enabled:
        return None
    if schedule.local_time:
        zone, clock = zone_name, preferred or schedule.send_time
    else:
        zone, clock = schedule.timezone, schedule.send_time
    day = localtime.local_date(after, zone)
    moment = localtime.at(day, clock, zone)
    return moment if moment > after else localtime.at(day + timedelta(days=1), clock, zone)
