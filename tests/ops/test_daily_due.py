"""One answer to "was today's send missed?": the Daily schedule screen, the dashboard,
the banner and the heartbeat's DailyBroadcastPending agree at every instant.

The schedule is the default 10:00 America/Chicago (16:00 UTC on 25 Nov 2026, CST);
the clock is moved to each instant and every door is asked.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from messaging.broadcasts import due, schedule
from messaging.models import Broadcast, DailyContent
from messaging.reports import monitoring
from subscribers.consent import change
from subscribers.models import Subscriber

pytestmark = pytest.mark.django_db

TEN_CHICAGO = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
SCHEDULE_URL = "/admin/messaging/dailyscheduletask/"


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</div>", start)]


def every_door(client, at: datetime, clock) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What each door says at `at`: the state, the metric, the banner, the two screens."""
    clock.set(at)
    metric = monitoring.heartbeat()  # what beat runs every minute; the banner reads it
    home = client.get("/admin/").content.decode()
    screen = client.get(SCHEDULE_URL).content.decode()
    return {
        "state": due.today().state(),
        "metric": metric,
        "banner": "has not started: it was due at" in home,
        "dashboard": "Not sent today" in section(home, "ops-daily"),
        "schedule screen": "Today's daily broadcast has not begun" in screen,
    }


def agreeing(state: due.State, late: bool, pending: bool) -> dict[str, object]:
    return {
        "state": state,
        "metric": int(pending),
        "banner": late,
        "dashboard": late,
        "schedule screen": late,
    }


@pytest.fixture(autouse=True)
def ten_in_chicago(settings):  # type: ignore[no-untyped-def]
    settings.DAILY_FALLBACK_TEXT = ""
    settings.DAILY_LATE_BANNER_MINUTES = 15
    settings.DAILY_MISSED_ALARM_MINUTES = 30
    cache.delete(monitoring.STATUS_KEY)
    PeriodicTask.objects.filter(name=schedule.PERIODIC_TASK_NAME).delete()
    schedule.ensure_daily_schedule()  # 10:00 America/Chicago, same moment
    DailyContent.objects.create(date=TEN_CHICAGO.date(), text="Today's word")


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (-10, agreeing(due.State.UPCOMING, late=False, pending=False)),
        (5, agreeing(due.State.DUE, late=False, pending=True)),  # within the late grace
        (16, agreeing(due.State.LATE, late=True, pending=True)),
        (31, agreeing(due.State.MISSED, late=True, pending=True)),
    ],
)
def test_every_door_agrees_before_within_grace_late_and_missed(
    admin_client, clock, minutes, expected
):
    assert every_door(admin_client, TEN_CHICAGO + timedelta(minutes=minutes), clock) == expected


def test_a_begun_broadcast_is_begun_everywhere(admin_client, clock):
    Broadcast.objects.create(
        idempotency_key="daily:2026-11-25", name="Daily", text="Today's word", state="sending",
        date=TEN_CHICAGO.date(), started_at=TEN_CHICAGO + timedelta(minutes=20),
    )  # fmt: skip
    seen = every_door(admin_client, TEN_CHICAGO + timedelta(minutes=40), clock)
    assert seen == agreeing(due.State.BEGUN, late=False, pending=False)


def test_a_day_without_content_or_fallback_expects_nothing_anywhere(admin_client, clock):
    DailyContent.objects.all().delete()
    seen = every_door(admin_client, TEN_CHICAGO + timedelta(minutes=40), clock)
    assert seen == agreeing(due.State.NOT_EXPECTED, late=False, pending=False)
    assert due.today().not_expected == due.NO_CONTENT
    home = admin_client.get("/admin/").content.decode()
    assert "Skipped today" in section(home, "ops-daily")


def test_the_fallback_text_makes_a_day_without_content_due(admin_client, clock, settings):
    DailyContent.objects.all().delete()
    settings.DAILY_FALLBACK_TEXT = "A word for today"
    seen = every_door(admin_client, TEN_CHICAGO + timedelta(minutes=40), clock)
    assert seen == agreeing(due.State.MISSED, late=True, pending=True)


def test_in_local_time_mode_every_door_counts_from_the_first_wave(admin_client, clock):
    PeriodicTask.objects.filter(name=schedule.PERIODIC_TASK_NAME).update(
        kwargs=json.dumps({"mode": "local_time"})
    )
    east = change("+13125550151", "opted_in", "import", {"file": "t.csv"}).subscriber
    Subscriber.objects.filter(pk=east.pk).update(timezone="America/New_York")
    # 10:00 in New York is 09:00 in Chicago: at 09:20 the first wave is 20 minutes late,
    # though the schedule's own clock has not reached 10:00.
    seen = every_door(admin_client, TEN_CHICAGO - timedelta(minutes=40), clock)
    assert seen == agreeing(due.State.LATE, late=True, pending=True)
    assert due.today().due_at == TEN_CHICAGO - timedelta(hours=1)
    home = admin_client.get("/admin/").content.decode()
    assert "it was due at 09:00 CST" in section(home, "ops-daily")


def test_nobody_to_send_to_in_local_time_mode_expects_nothing(admin_client, clock):
    PeriodicTask.objects.filter(name=schedule.PERIODIC_TASK_NAME).update(
        kwargs=json.dumps({"mode": "local_time"})
    )
    seen = every_door(admin_client, TEN_CHICAGO + timedelta(minutes=40), clock)
    assert seen == agreeing(due.State.NOT_EXPECTED, late=False, pending=False)


def test_the_schedule_screen_and_the_dashboard_show_the_same_next_run(admin_client, clock):
    clock.set(TEN_CHICAGO + timedelta(minutes=40))
    (tomorrow,) = schedule.next_runs(schedule.current(), 1)
    assert tomorrow == schedule.next_run() == schedule.current().next_run
    assert tomorrow.astimezone(UTC) == TEN_CHICAGO + timedelta(days=1)
    screen = admin_client.get(SCHEDULE_URL).content.decode()
    assert "Thu 26 Nov 2026, 10:00 CST" in screen
    home = admin_client.get("/admin/").content.decode()
    assert "Next send: Thu 26 Nov 2026, 10:00 CST" in section(home, "ops-daily")
    assert timezone.now() > TEN_CHICAGO
