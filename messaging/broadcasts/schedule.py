"""The daily broadcast's schedule: the "daily-broadcast" periodic task and its crontab.

The task is created once after migrate from DAILY_SEND_TIME and
DAILY_SEND_TIMEZONE; from then on operators change it on the Daily schedule
screen (update()) and later migrations leave it alone. The crontab carries the
schedule's timezone, so django-celery-beat fires it at the local wall-clock
time (10:00 America/Chicago stays 10:00 across DST).

Beat picks a change up without a restart. django-celery-beat keeps one
"last changed" stamp (PeriodicTasks.last_update): PeriodicTask.save() bumps it
through PeriodicTasks.changed (unless no_changes is set, as beat itself does
when it writes its run counts), and so does saving a CrontabSchedule (a
post_save signal). DatabaseScheduler compares the stamp on every tick
(schedule_changed) and reloads its entries when it moved. A queryset update()
bumps nothing, which is why update() saves the row.

The delivery mode rides in the task's kwargs ({"mode": "same_moment"} or
{"mode": "local_time"}), so beat hands it to the task it fires.
"""

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from messaging import task_names
from messaging.models import Broadcast, SendMode
from subscribers import hooks, localtime

PERIODIC_TASK_NAME = "daily-broadcast"
DAILY_KEY_PREFIX = "daily:"

# Everyone gets the broadcast at the send time in the schedule's timezone (one moment).
SAME_MOMENT = SendMode.SAME_MOMENT
# Each subscriber gets it at the send time in their own timezone (delivery windows,
# messaging.broadcasts.waves); a broadcast remembers which it was sent in.
LOCAL_TIME = SendMode.LOCAL_TIME
MODES = (SAME_MOMENT, LOCAL_TIME)


class InvalidSchedule(ValueError):
    """A schedule that cannot be saved; str(exc) says why in one sentence."""


@dataclass(frozen=True)
class DailySchedule:
    hour: int
    minute: int
    timezone: str  # an IANA name, e.g. "America/Chicago"
    enabled: bool
    mode: str  # SAME_MOMENT or LOCAL_TIME
    # When the last daily broadcast started (UTC), whatever triggered it; None before the first.
    last_run: datetime | None
    # The next time beat fires the task (in the schedule's timezone); None when off.
    next_run: datetime | None
    # Set when the crontab was edited elsewhere (Periodic tasks) into something other
    # than once a day at one time: what it holds, described; saving replaces it.
    custom: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def time(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    @property
    def send_time(self) -> time:
        return time(self.hour, self.minute)

    @property
    def local_time(self) -> bool:
        return self.mode == LOCAL_TIME


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
    from django_celery_beat.models import PeriodicTask

    if PeriodicTask.objects.using(using).filter(name=PERIODIC_TASK_NAME).exists():
        return False
    hour, minute = parse_send_time(settings.DAILY_SEND_TIME)
    _, created = PeriodicTask.objects.using(using).get_or_create(
        name=PERIODIC_TASK_NAME,
        defaults={
            "crontab": _crontab(hour, minute, settings.DAILY_SEND_TIMEZONE, using),
            "task": task_names.START_DAILY_BROADCAST,
            "kwargs": json.dumps({"mode": SAME_MOMENT}),
            "description": "The daily broadcast (edit it on the Daily schedule screen)",
        },
    )
    return created


def _crontab(hour: int, minute: int, zone: str, using: str = "default") -> Any:
    """The once-a-day crontab row for this time, shared with any task that has it.

    A row is never edited in place: another periodic task may use the same one.
    """
    from django_celery_beat.models import CrontabSchedule

    fields = {
        "minute": str(minute),
        "hour": str(hour),
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": zone,
    }
    rows = CrontabSchedule.objects.using(using)
    return rows.filter(**fields).order_by("id").first() or rows.create(**fields)


def _task() -> Any:
    from django_celery_beat.models import PeriodicTask

    ensure_daily_schedule()
    return PeriodicTask.objects.select_related("crontab").get(name=PERIODIC_TASK_NAME)


def _kwargs(task: Any) -> dict[str, Any]:
    """The task's kwargs; an unreadable value (edited by hand) counts as none."""
    try:
        kwargs = json.loads(task.kwargs or "{}")
    except ValueError:
        return {}
    return kwargs if isinstance(kwargs, dict) else {}


def _mode(task: Any) -> str:
    mode = _kwargs(task).get("mode")
    return mode if mode in MODES else SAME_MOMENT


def _daily_time(crontab: Any) -> tuple[int, int] | None:
    """(hour, minute) when the crontab fires once every day, else None."""
    if crontab is None:
        return None
    if {crontab.day_of_week, crontab.day_of_month, crontab.month_of_year} != {"*"}:
        return None
    try:
        hour, minute = int(crontab.hour), int(crontab.minute)
    except ValueError:
        return None
    return (hour, minute) if 0 <= hour < 24 and 0 <= minute < 60 else None


def current() -> DailySchedule:
    """The schedule as beat will run it."""
    task = _task()
    crontab = task.crontab
    zone = str(crontab.timezone) if crontab is not None else settings.DAILY_SEND_TIMEZONE
    daily_time = _daily_time(crontab)
    custom = ""
    if daily_time is None:
        daily_time = parse_send_time(settings.DAILY_SEND_TIME)
        custom = _describe_custom(task)
    hour, minute = daily_time
    last = last_daily_broadcast()
    schedule = DailySchedule(
        hour=hour,
        minute=minute,
        timezone=zone,
        enabled=task.enabled,
        mode=_mode(task),
        last_run=last.started_at if last else None,
        next_run=None,
        custom=custom,
    )
    if not task.enabled or custom:
        return schedule
    return dataclasses.replace(schedule, next_run=next_runs(schedule, count=1)[0])


def _describe_custom(task: Any) -> str:
    crontab = task.crontab
    if crontab is None:
        return "a schedule that is not a daily time"
    return (
        f"minute {crontab.minute}, hour {crontab.hour}, day of week {crontab.day_of_week}, "
        f"day of month {crontab.day_of_month}, month {crontab.month_of_year}"
    )


# The timezone read inside read_once(), else None (each call reads it).
_zone_read: ContextVar[list[str] | None] = ContextVar("schedule_zone_read", default=None)


@contextmanager
def read_once() -> Iterator[None]:
    """Within the block the schedule's timezone is read once: a page whose banners and
    cards each ask for it (the admin home) makes one query, not one per asker."""
    token = _zone_read.set([])
    try:
        yield
    finally:
        _zone_read.reset(token)


def timezone_name() -> str:
    """The schedule's timezone: the local date of a daily broadcast is taken in it."""
    from django_celery_beat.models import PeriodicTask

    memo = _zone_read.get()
    if memo:
        return memo[0]
    zone = (
        PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME)
        .values_list("crontab__timezone", flat=True)
        .first()
    )
    name = str(zone) if zone else settings.DAILY_SEND_TIMEZONE
    if memo is not None:
        memo.append(name)
    return name


def content_zone(subscriber_zone: str) -> str:
    """The zone whose date picks the daily content a subscriber gets: their own when
    the daily send goes out at each subscriber's local time, the schedule's otherwise.

    One query: the bot asks this on a webhook.
    """
    from django_celery_beat.models import PeriodicTask

    task = (
        PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME)
        .only("kwargs", "crontab__timezone")
        .select_related("crontab")
        .first()
    )
    if task is not None and _mode(task) == LOCAL_TIME and subscriber_zone:
        return subscriber_zone
    if task is not None and task.crontab is not None:
        return str(task.crontab.timezone)
    return settings.DAILY_SEND_TIMEZONE


@hooks.set_local_delivery_check
def delivers_at_local_time() -> bool:
    """Whether the daily broadcast goes out at each subscriber's own local time."""
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME).only("kwargs").first()
    return task is not None and _mode(task) == LOCAL_TIME


@hooks.set_next_send_day
def next_send_day(subscriber: Any, now: datetime) -> Any:
    """The subscriber's local date of their next daily message (None: the schedule is off)."""
    moment = next_send(subscriber.timezone, subscriber.preferred_time, now)
    return localtime.local_date(moment, subscriber.timezone) if moment else None


def validate(hour: int, minute: int, zone: str, mode: str) -> None:
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise InvalidSchedule(f"{hour:02d}:{minute:02d} is not a time of day.")
    if not localtime.is_timezone(zone):
        raise InvalidSchedule(f"“{zone}” is not a timezone name (such as America/Chicago).")
    if mode not in MODES:
        raise InvalidSchedule(f"“{mode}” is not a delivery mode ({' or '.join(MODES)}).")


def update(*, hour: int, minute: int, timezone: str, enabled: bool, mode: str) -> DailySchedule:
    """Save the schedule on the periodic task; beat reloads it on its next tick.

    A new time or timezone counts from the moment of the change: beat's own
    record of the last run is cleared, so it does not "catch up" on an earlier
    time that has passed today. Moving the time earlier than now, before
    today's broadcast went out, moves today's broadcast to tomorrow (the screen
    says so; `send_daily` sends today's at once).
    """
    validate(hour, minute, timezone, mode)
    from django_celery_beat.models import PeriodicTask

    ensure_daily_schedule()
    with transaction.atomic():
        # No select_related: PostgreSQL cannot lock the nullable side of an outer join.
        task = PeriodicTask.objects.select_for_update().get(name=PERIODIC_TASK_NAME)
        crontab = _crontab(hour, minute, timezone)
        if task.crontab_id != crontab.pk:
            task.last_run_at = None  # beat counts from date_changed, i.e. now
        task.crontab = crontab
        task.interval = task.solar = task.clocked = None
        task.enabled = enabled
        task.task = task_names.START_DAILY_BROADCAST
        task.kwargs = json.dumps({**_kwargs(task), "mode": mode})
        # save(), not update(): its PeriodicTasks.changed() is what tells beat.
        task.save()
    return current()


def record_run() -> None:
    """Note on the periodic task that it ran now, as beat would on its next sync.

    Beat writes its runs back to the row only every few minutes (and a new
    time clears them); the task notes its own run at once, so "Last run" in
    Periodic tasks is true as soon as beat has fired. A queryset update: it
    bumps no change stamp, so beat does not reload for it.
    """
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME).update(last_run_at=timezone.now())


def next_runs(
    schedule: DailySchedule, count: int = 5, after: datetime | None = None
) -> list[datetime]:
    """The next `count` times a once-a-day schedule fires after `after` (now), in its zone."""
    from django_celery_beat.models import CrontabSchedule

    daily = CrontabSchedule(
        minute=str(schedule.minute), hour=str(schedule.hour), timezone=schedule.timezone
    )
    return crontab_runs(daily, count, after)


def next_run(after: datetime | None = None) -> datetime | None:
    """When beat next fires the daily task, by its crontab as it stands (a custom one
    too) in the crontab's zone; None when it is off or would not fire within a year."""
    task = _task()
    if not task.enabled or task.crontab is None:
        return None
    runs = crontab_runs(task.crontab, 1, after)
    return runs[0] if runs else None


def crontab_runs(crontab: Any, count: int = 1, after: datetime | None = None) -> list[datetime]:
    """The next `count` times beat fires a crontab after `after` (now), in the crontab's
    zone; fewer when it would not fire that often within a year. Every "next run" the
    admin shows and every "due today" the monitor judges comes from here.

    A wall-clock time that a DST change skips (02:30 on a spring-forward day)
    is shown as the instant it falls on, one hour later on the clock.
    """
    cron = crontab.schedule  # celery's crontab: sets of minutes, hours, days
    zone_name = str(crontab.timezone)
    zone = ZoneInfo(zone_name)
    after = (after or timezone.now()).astimezone(zone)
    runs: list[datetime] = []
    first = after.date()
    for offset in range(367 + count):
        day = first + timedelta(days=offset)
        # Celery counts weekdays from Sunday = 0.
        if (
            day.isoweekday() % 7 not in cron.day_of_week
            or day.day not in cron.day_of_month
            or day.month not in cron.month_of_year
        ):
            continue
        for hour in sorted(cron.hour):
            for minute in sorted(cron.minute):
                at = localtime.at(day, time(hour, minute), zone_name).astimezone(zone)
                if at > after:
                    runs.append(at)
                    if len(runs) == count:
                        return runs
    return runs


def last_daily_broadcast() -> Broadcast | None:
    return (
        Broadcast.objects.filter(idempotency_key__startswith=DAILY_KEY_PREFIX)
        .order_by("-date", "-created_at")
        .first()
    )


def next_send(zone_name: str, preferred: time | None, after: datetime) -> datetime | None:
    """The first daily send after a moment for a subscriber in zone_name (UTC), or None
    while the schedule is off. In local-time mode it is their own send time (preferred,
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
