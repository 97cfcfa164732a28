"""The "daily-broadcast" periodic task: created after migrate, kept, right across DST,
and read and changed as the Daily schedule screen does, with beat noticing."""

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from messaging.broadcasts import schedule
from messaging.broadcasts.schedule import PERIODIC_TASK_NAME, ensure_daily_schedule, parse_send_time

CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.django_db
def test_migrate_created_the_daily_task_at_10_chicago():
    task = PeriodicTask.objects.get(name=PERIODIC_TASK_NAME)
    assert task.task == "messaging.start_daily_broadcast"
    assert task.enabled
    assert (task.crontab.hour, task.crontab.minute) == ("10", "0")
    assert str(task.crontab.timezone) == "America/Chicago"


@pytest.mark.django_db
def test_an_operators_edit_survives_the_next_migrate():
    task = PeriodicTask.objects.get(name=PERIODIC_TASK_NAME)
    task.crontab.hour = "9"
    task.crontab.save()
    task.enabled = False
    task.save()
    assert ensure_daily_schedule() is False
    task.refresh_from_db()
    assert task.crontab.hour == "9" and task.enabled is False
    assert PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME).count() == 1


@pytest.mark.django_db
def test_a_missing_task_is_recreated_from_the_settings(settings):
    PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME).delete()
    settings.DAILY_SEND_TIME = "07:30"
    settings.DAILY_SEND_TIMEZONE = "Europe/Berlin"
    assert ensure_daily_schedule() is True
    crontab = PeriodicTask.objects.get(name=PERIODIC_TASK_NAME).crontab
    assert (crontab.hour, crontab.minute, str(crontab.timezone)) == ("7", "30", "Europe/Berlin")


@pytest.mark.parametrize("value", ["10", "25:00", "ten:00", "10:60"])
def test_a_bad_send_time_is_a_clear_error(value):
    with pytest.raises(ImproperlyConfigured, match="DAILY_SEND_TIME"):
        parse_send_time(value)


SPRING = (datetime(2026, 3, 7, 10), datetime(2026, 3, 8, 9, 59), datetime(2026, 3, 8, 10, 0, 30))
FALL = (datetime(2026, 10, 31, 10), datetime(2026, 11, 1, 9, 59), datetime(2026, 11, 1, 10, 0, 30))


@pytest.mark.django_db
# Spring forward (8 March 2026): 10:00 CST was 16:00 UTC, 10:00 CDT is 15:00 UTC; and back.
@pytest.mark.parametrize(("last_run", "before", "after"), [SPRING, FALL])
def test_the_schedule_stays_at_10_local_across_dst(last_run, before, after):
    schedule = PeriodicTask.objects.get(name=PERIODIC_TASK_NAME).crontab.schedule
    last = last_run.replace(tzinfo=CHICAGO)
    schedule.nowfun = lambda: before.replace(tzinfo=CHICAGO)
    assert schedule.is_due(last)[0] is False
    schedule.nowfun = lambda: after.replace(tzinfo=CHICAGO)
    assert schedule.is_due(last)[0] is True


# --- The schedule as the Daily schedule screen reads and writes it -------------------


@pytest.mark.django_db
def test_current_reads_the_task_migrate_made():
    current = schedule.current()
    assert (current.hour, current.minute, current.timezone) == (10, 0, "America/Chicago")
    assert current.enabled and current.mode == schedule.SAME_MOMENT and not current.custom
    assert current.last_run is None
    assert current.next_run.tzinfo == CHICAGO and (
        current.next_run.hour,
        current.next_run.minute,
    ) == (10, 0)
    assert current.next_run > timezone.now()


@pytest.mark.django_db
def test_update_points_the_task_at_its_own_crontab_and_keeps_a_shared_one_intact():
    task = PeriodicTask.objects.get(name=PERIODIC_TASK_NAME)
    shared = task.crontab
    other = PeriodicTask.objects.create(name="other job", task="x.y", crontab=shared)
    PeriodicTask.objects.filter(pk=task.pk).update(last_run_at=timezone.now())

    after = schedule.update(
        hour=7, minute=45, timezone="Europe/Madrid", enabled=True, mode=schedule.LOCAL_TIME
    )
    assert (after.time, after.timezone, after.mode) == ("07:45", "Europe/Madrid", "local_time")
    task.refresh_from_db()
    assert (task.crontab.hour, task.crontab.minute, str(task.crontab.timezone)) == (
        "7", "45", "Europe/Madrid",
    )  # fmt: skip
    assert json.loads(task.kwargs) == {"mode": "local_time"}
    # A new time counts from now: beat does not "catch up" on one that passed today.
    assert task.last_run_at is None
    other.refresh_from_db()
    shared.refresh_from_db()
    assert other.crontab_id == shared.pk and (shared.hour, shared.minute) == ("10", "0")

    # Turning it off is kept, and nothing but the schedule moves.
    off = schedule.update(
        hour=7, minute=45, timezone="Europe/Madrid", enabled=False, mode=schedule.LOCAL_TIME
    )
    assert not off.enabled and off.next_run is None
    assert PeriodicTask.objects.get(name=PERIODIC_TASK_NAME).crontab_id == task.crontab_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("hour", "minute", "zone", "mode", "reason"),
    [
        (24, 0, "UTC", "same_moment", "not a time of day"),
        (9, 60, "UTC", "same_moment", "not a time of day"),
        (9, 0, "Mars/Olympus", "same_moment", "not a timezone name"),
        (9, 0, "UTC", "whenever", "not a delivery mode"),
    ],
)
def test_update_refuses_what_it_cannot_schedule_and_changes_nothing(
    hour, minute, zone, mode, reason
):
    before = schedule.current()
    with pytest.raises(schedule.InvalidSchedule, match=reason):
        schedule.update(hour=hour, minute=minute, timezone=zone, enabled=True, mode=mode)
    assert schedule.current() == before


@pytest.mark.django_db(transaction=True)
def test_a_running_beat_picks_the_change_up_without_a_restart():
    from django_celery_beat.schedulers import DatabaseScheduler

    from smsbot.celery import app

    schedule.ensure_daily_schedule()
    # Beat loads crontab tasks due within two hours of now: keep the times near.
    hour = timezone.now().astimezone(UTC).hour
    schedule.update(
        hour=(hour + 1) % 24, minute=5, timezone="UTC", enabled=True, mode="same_moment"
    )
    beat = DatabaseScheduler(app=app)
    try:
        assert PERIODIC_TASK_NAME in beat.schedule  # a tick: the first notes the change stamp
        entry = beat.schedule[PERIODIC_TASK_NAME]
        assert entry.schedule.hour == {(hour + 1) % 24} and entry.kwargs == {"mode": "same_moment"}

        schedule.update(
            hour=(hour + 2) % 24, minute=10, timezone="UTC", enabled=True, mode="same_moment"
        )
        entry = beat.schedule[PERIODIC_TASK_NAME]  # the next tick, same process
        assert entry.schedule.hour == {(hour + 2) % 24} and entry.schedule.minute == {10}

        # Only the task row changes (its kwargs): its save is what tells beat.
        schedule.update(
            hour=(hour + 2) % 24, minute=10, timezone="UTC", enabled=True, mode="local_time"
        )
        assert beat.schedule[PERIODIC_TASK_NAME].kwargs == {"mode": "local_time"}
    finally:
        beat._finalize.cancel()


def test_next_runs_stay_at_local_time_across_dst_and_name_a_skipped_time():
    ten = schedule.DailySchedule(10, 0, "America/Chicago", True, "same_moment", None, None)
    runs = schedule.next_runs(ten, 3, after=datetime(2026, 3, 7, 12, tzinfo=CHICAGO))
    assert [r.astimezone(UTC).hour for r in runs] == [15, 15, 15]  # CDT from 8 March
    assert [(r.day, r.hour) for r in runs] == [(8, 10), (9, 10), (10, 10)]
    runs = schedule.next_runs(ten, 2, after=datetime(2026, 3, 7, 9, tzinfo=CHICAGO))
    assert [r.astimezone(UTC).hour for r in runs] == [16, 15]  # 10:00 CST, then CDT

    # 02:30 does not exist on 8 March 2026 in Chicago: it falls an hour later on the clock.
    early = schedule.DailySchedule(2, 30, "America/Chicago", True, "same_moment", None, None)
    (run,) = schedule.next_runs(early, 1, after=datetime(2026, 3, 7, 12, tzinfo=CHICAGO))
    assert (run.hour, run.minute, run.tzname()) == (3, 30, "CDT")


@pytest.mark.django_db
def test_a_schedule_edited_into_custom_cron_is_described_then_replaced():
    crontab = PeriodicTask.objects.get(name=PERIODIC_TASK_NAME).crontab
    crontab.hour, crontab.day_of_week = "*/2", "1-5"
    crontab.save()
    current = schedule.current()
    assert "hour */2" in current.custom and current.next_run is None
    schedule.update(hour=10, minute=0, timezone="America/Chicago", enabled=True, mode="same_moment")
    assert not schedule.current().custom


@pytest.mark.django_db
def test_the_local_date_of_a_daily_broadcast_follows_the_schedules_timezone():
    from messaging.broadcasts import daily

    schedule.update(
        hour=8, minute=0, timezone="Pacific/Kiritimati", enabled=True, mode="same_moment"
    )
    assert daily.local_today() == datetime.now(ZoneInfo("Pacific/Kiritimati")).date()


def test_beat_fires_the_task_with_the_mode_and_last_run_shows_it(celery_worker, recording):
    from messaging.broadcasts import daily
    from messaging.models import Broadcast, BroadcastState, DailyContent
    from smsbot.celery import REPLIES_QUEUE, app
    from tests.messaging.pipeline.conftest import opted_in, wait_for

    schedule.ensure_daily_schedule()
    # Same moment: the task itself sends (in local-time mode it leaves the day to the
    # minute check's waves: tests/messaging/pipeline/test_waves.py).
    schedule.update(hour=10, minute=0, timezone="America/Chicago", enabled=True, mode="same_moment")
    opted_in(2)
    DailyContent.objects.create(date=daily.local_today(), text="Fired by beat")
    task = PeriodicTask.objects.get(name=PERIODIC_TASK_NAME)
    # What beat sends: the task by name, with the row's kwargs.
    app.send_task(task.task, kwargs=json.loads(task.kwargs), queue=REPLIES_QUEUE)
    wait_for(
        lambda: Broadcast.objects.filter(state=BroadcastState.DONE).exists(),
        what="the daily broadcast to finish",
    )
    broadcast = Broadcast.objects.get()
    assert schedule.current().last_run == broadcast.started_at
    assert schedule.last_daily_broadcast() == broadcast
    # Periodic tasks shows the run at once, not at beat's next sync.
    last_run_at = PeriodicTask.objects.get(name=PERIODIC_TASK_NAME).last_run_at
    assert last_run_at is not None and last_run_at <= broadcast.started_at
