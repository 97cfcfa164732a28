"""The "daily-broadcast" periodic task: created after migrate, kept, right across DST."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django_celery_beat.models import PeriodicTask

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
