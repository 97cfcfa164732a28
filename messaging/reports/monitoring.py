"""The portal watching itself: the beat heartbeat and whether today's broadcast began.

Celery beat fires the heartbeat task every minute and a worker runs it, so each
run proves both are alive. It keeps what the admin's banners need in the cache
(Status: when it ran, today's broadcast), so showing them costs a page no
query, and sends CloudWatch the dead-man's-switch figures the
alarms watch: BeatHeartbeat, and DailyBroadcastPending, 1 for every minute in
which today's broadcast is due (its send time has passed on a day with content)
and has not begun. Whatever begins a day's broadcast sends DailyBroadcastStarted
(messaging.broadcasts.daily).

"Due" is read from the daily-broadcast periodic task as operators left it (its
crontab and timezone, so DST and admin edits are followed) and from the content:
a day with neither daily content nor DAILY_FALLBACK_TEXT is skipped on purpose.
In local-time mode the day's broadcast begins with its first wave, when the send
time comes on the clock of the subscribers whose day starts first.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.utils import timezone

from messaging.broadcasts import daily, schedule, windows
from messaging.broadcasts.schedule import PERIODIC_TASK_NAME
from messaging.models import Broadcast
from smsbot import metrics
from smsbot.aws_names import METRIC_DAILY_PENDING, METRIC_HEARTBEAT

STATUS_KEY = "monitoring:status"


@dataclass(frozen=True)
class DailyDue:
    """Today's daily broadcast as the schedule and the content expect it."""

    day: date
    due_at: datetime  # aware, in the schedule's timezone
    started_at: datetime | None  # when the day's broadcast began, if it has

    @property
    def started(self) -> bool:
        return self.started_at is not None

    def late_by(self, now: datetime) -> timedelta | None:
        """How long past its time it is without having begun; None if it began or is not due."""
        if self.started or now < self.due_at:
            return None
        return now - self.due_at


def first_run_on(crontab: object, day: date, zone: ZoneInfo) -> datetime | None:
    """The first time crontab fires on day (celery's crontab fields), or None."""
    schedule = crontab.schedule  # type: ignore[attr-defined]
    if (
        day.month not in schedule.month_of_year
        or day.day not in schedule.day_of_month
        or day.isoweekday() % 7 not in schedule.day_of_week  # celery: 0 is Sunday
    ):
        return None
    return datetime.combine(day, time(min(schedule.hour), min(schedule.minute)), tzinfo=zone)


def daily_due(now: datetime | None = None) -> DailyDue | None:
    """Today's broadcast, or None when none is expected (schedule off, no content)."""
    from django_celery_beat.models import PeriodicTask

    task = (
        PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME, enabled=True)
        .select_related("crontab")
        .first()
    )
    if task is None or task.crontab is None:
        return None
    zone = ZoneInfo(str(task.crontab.timezone))
    day = (now or timezone.now()).astimezone(zone).date()
    due_at = first_run_on(task.crontab, day, zone)
    if due_at is None or daily.text_for(day) is None:
        return None
    current = schedule.current()
    if current.local_time:
        waves = windows.plan(day, current.send_time, windows.audience_groups())
        if not waves:
            return None  # nobody to send to: nothing can begin
        due_at = waves[0].due_at
    started_at = (
        Broadcast.objects.filter(idempotency_key=daily.key_for(day))
        .values_list("started_at", flat=True)
        .first()
    )
    return DailyDue(day, due_at, started_at)


@dataclass(frozen=True)
class Status:
    """What the last heartbeat found, for the banners."""

    at: datetime
    daily: DailyDue | None


def heartbeat(now: datetime | None = None) -> int:
    """Record what the banners need and send the switch's figures; returns
    DailyBroadcastPending."""
    now = now or timezone.now()
    due = daily_due(now)
    cache.set(STATUS_KEY, Status(now, due), timeout=None)
    pending = int(due is not None and due.late_by(now) is not None)
    metrics.put_now({METRIC_HEARTBEAT: 1, METRIC_DAILY_PENDING: pending}, now)
    return pending


def status() -> Status | None:
    """What the last heartbeat found; None when none has run."""
    return cache.get(STATUS_KEY)
