"""refresh_rollups command and the beat task on a real worker."""

import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from messaging.models import DailyRollup
from messaging.reports import rollups
from smsbot.celery import BULK_QUEUE, app
from tests.ops.factories import at, message


@pytest.mark.django_db
def test_command_all_rebuilds_every_day_since_the_first_message(capsys):
    today = timezone.localdate()
    for days_ago in (0, 5, 40):
        message(at(today - timedelta(days=days_ago)))
    call_command("refresh_rollups", "--all")
    assert "Rollups refreshed: 41 day(s)" in capsys.readouterr().out
    assert set(DailyRollup.objects.values_list("day", flat=True)) == {
        today - timedelta(days=d) for d in (0, 5, 40)
    }
    # A second run replaces rows instead of adding to them.
    call_command("refresh_rollups", "--all")
    assert sum(DailyRollup.objects.values_list("messages", flat=True)) == 3


@pytest.mark.django_db
def test_command_default_refreshes_recent_days_and_a_stretch_of_history(settings, capsys):
    settings.ROLLUP_REFRESH_DAYS = 2
    today = timezone.localdate()
    message(at(today - timedelta(days=2)))
    message(at(today - timedelta(days=3)))
    message(at(today - timedelta(days=3 + rollups.BACKFILL_DAYS)))  # for the next run
    call_command("refresh_rollups")
    assert "3 day(s), 1 month(s); 31 older day(s) rolled up" in capsys.readouterr().out
    assert sorted(DailyRollup.objects.values_list("day", flat=True)) == [
        today - timedelta(days=3),
        today - timedelta(days=2),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("since", "error"), [("22/11/2026", "YYYY-MM-DD"), ("2999-01-01", "in the future")]
)
def test_command_rejects_a_bad_since(since, error):
    with pytest.raises(CommandError, match=error):
        call_command("refresh_rollups", "--since", since)


def test_beat_task_refreshes_rollups_on_a_real_worker(celery_worker):
    yesterday = timezone.localdate() - timedelta(days=1)
    message(at(yesterday))
    app.send_task("messaging.refresh_rollups", queue=BULK_QUEUE)
    deadline = time.monotonic() + 20
    while not DailyRollup.objects.filter(day=yesterday).exists():
        assert time.monotonic() < deadline, "the worker did not refresh the rollups"
        time.sleep(0.2)
    assert DailyRollup.objects.get(day=yesterday).messages == 1


def test_beat_schedule_runs_the_refresh_on_the_bulk_queue():
    entry = app.conf.beat_schedule["refresh-rollups"]
    assert entry["task"] == "messaging.refresh_rollups"
    assert entry["options"]["queue"] == BULK_QUEUE
