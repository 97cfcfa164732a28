"""Was today's daily broadcast sent? The one answer every screen and alarm gives.

today() reads the daily-broadcast periodic task as operators left it (its
crontab and timezone, so DST and edits in Periodic tasks are followed), the
day's content or DAILY_FALLBACK_TEXT (a day with neither is skipped on
purpose: nothing is expected), and the delivery mode: in local-time mode the
day's broadcast begins with its first wave, when the send time comes on the
clock of the subscribers whose day starts first.

Its state at a moment, by two named grace periods:

    upcoming  its time has not come
    due       its time has passed, less than DAILY_LATE_BANNER_MINUTES ago, and it has not begun
    late      DAILY_LATE_BANNER_MINUTES past: the admin's banner, the Daily schedule
              screen and the dashboard say it has not gone out
    missed    DAILY_MISSED_ALARM_MINUTES past: the CloudWatch alarm fires too
    begun     today's broadcast has started
    not expected  the schedule is off or not for today, no content and no fallback,
              or (local time) nobody to send to

The heartbeat sends DailyBroadcastPending = 1 for every minute the state is
due, late or missed; the alarm (smsbot.provisioning.cloudwatch) fires after
DAILY_MISSED_ALARM_MINUTES such minutes, i.e. exactly when the state is missed.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from messaging.broadcasts import daily, schedule, waves
from messaging.models import Broadcast


class State(StrEnum):
    NOT_EXPECTED = "not_expected"
    UPCOMING = "upcoming"
    DUE = "due"
    LATE = "late"
    MISSED = "missed"
    BEGUN = "begun"


# Why nothing is expected today.
OFF = "the daily schedule is off"
NOT_TODAY = "the schedule does not run today"
NO_CONTENT = "there is no content and no DAILY_FALLBACK_TEXT"
NO_AUDIENCE = "nobody is subscribed"


def late_after() -> timedelta:
    return timedelta(minutes=settings.DAILY_LATE_BANNER_MINUTES)


def missed_after() -> timedelta:
    return timedelta(minutes=settings.DAILY_MISSED_ALARM_MINUTES)


@dataclass(frozen=True)
class DailyDue:
    """Today's daily broadcast as the schedule and the content expect it."""

    day: date  # in the schedule's timezone
    due_at: datetime | None  # aware, in the schedule's timezone; None when not expected
    started_at: datetime | None  # when the day's broadcast began, if it has
    not_expected: str = ""  # why nothing is expected (OFF, NOT_TODAY, ...)

    def state(self, now: datetime | None = None) -> State:
        if self.started_at is not None:
            return State.BEGUN
        if self.due_at is None:
            return State.NOT_EXPECTED
        late = (now or timezone.now()) - self.due_at
        if late < timedelta(0):
            return State.UPCOMING
        if late >= missed_after():
            return State.MISSED
        return State.LATE if late >= late_after() else State.DUE

    def late_by(self, now: datetime | None = None) -> timedelta | None:
        """How long past its time it is without having begun; None otherwise."""
        if self.state(now) not in (State.DUE, State.LATE, State.MISSED):
            return None
        assert self.due_at is not None
        return (now or timezone.now()) - self.due_at

    def pending(self, now: datetime | None = None) -> bool:
        """Its time has passed and it has not begun: the heartbeat's DailyBroadcastPending."""
        return self.late_by(now) is not None

    def overdue(self, now: datetime | None = None) -> bool:
        """Late or missed: what the banner, the schedule screen and the dashboard report."""
        return self.state(now) in (State.LATE, State.MISSED)


def first_run_on(crontab: object, day: date) -> datetime | None:
    """The first time crontab fires on day, in its zone, or None."""
    zone = ZoneInfo(str(crontab.timezone))  # type: ignore[attr-defined]
    midnight = datetime.combine(day, time(0), tzinfo=zone) - timedelta(microseconds=1)
    runs = schedule.crontab_runs(crontab, 1, after=midnight)
    return runs[0] if runs and runs[0].date() == day else None


def today(now: datetime | None = None) -> DailyDue:
    """Today's daily broadcast: when it is due and whether it began."""
    from django_celery_beat.models import PeriodicTask

    now = now or timezone.now()
    task = (
        PeriodicTask.objects.filter(name=schedule.PERIODIC_TASK_NAME)
        .select_related("crontab")
        .first()
    )
    zone = str(task.crontab.timezone) if task and task.crontab else settings.DAILY_SEND_TIMEZONE
    day = now.astimezone(ZoneInfo(zone)).date()
    started_at = (
        Broadcast.objects.filter(idempotency_key=daily.key_for(day))
        .values_list("started_at", flat=True)
        .first()
    )
    if task is None or not task.enabled or task.crontab is None:
        return DailyDue(day, None, started_at, OFF)
    due_at = first_run_on(task.crontab, day)
    if due_at is None:
        return DailyDue(day, None, started_at, NOT_TODAY)
    if daily.text_for(day) is None:
        return DailyDue(day, None, started_at, NO_CONTENT)
    current = schedule.current()
    if current.local_time:
        planned = waves.plan(day, current.send_time, waves.audience_groups())
        if not planned:
            return DailyDue(day, None, started_at, NO_AUDIENCE)
        due_at = planned[0].due_at.astimezone(due_at.tzinfo)
    return DailyDue(day, due_at, started_at)
