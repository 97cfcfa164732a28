"""The portal watching itself: heartbeat, today's broadcast, sends needing review, the mirror.

Each condition is a red (or amber) banner on the admin home linking to what to do;
the heartbeat also sends the figures the dead-man's-switch alarms watch.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from messaging import tasks
from messaging.broadcasts import due as daily_due
from messaging.broadcasts import schedule
from messaging.models import Broadcast, DailyContent, Message
from messaging.reports import alerts, monitoring
from smsbot import timezones
from smsbot.aws import client
from subscribers.consent import change
from subscribers.models import Subscriber
from tests.ops.daily_schedule import due_minutes_ago, neighbour_zone

pytestmark = pytest.mark.django_db


def alert(check) -> alerts.Alert | None:
    """The banner check raises after the heartbeat has looked (as beat makes it do)."""
    monitoring.heartbeat()
    return check()


@pytest.fixture(autouse=True)
def content_today(settings):
    settings.DAILY_FALLBACK_TEXT = "A word for today"
    cache.delete(monitoring.STATUS_KEY)


def test_no_heartbeat_is_an_error_banner_linking_to_the_periodic_tasks(admin_client):
    raised = alerts.beat_heartbeat()
    assert raised.level == alerts.ERROR and "since the portal started" in raised.text
    assert raised.url == reverse("admin:django_celery_beat_periodictask_changelist")
    assert "No heartbeat from Celery beat" in admin_client.get("/admin/").content.decode()

    assert alert(alerts.beat_heartbeat) is None


def test_a_heartbeat_older_than_five_minutes_raises_the_banner():
    monitoring.heartbeat(timezone.now() - timedelta(minutes=4))
    assert alerts.beat_heartbeat() is None
    monitoring.heartbeat(timezone.now() - timedelta(minutes=6))
    assert "for 6 minutes" in alerts.beat_heartbeat().text


def test_todays_broadcast_not_started_15_minutes_after_its_time(admin_client):
    due = due_minutes_ago(14)
    assert alert(alerts.daily_broadcast_late) is None  # still within its grace
    due = due_minutes_ago(16)
    raised = alert(alerts.daily_broadcast_late)
    assert raised.level == alerts.ERROR
    assert f"was due at {timezones.shown(due)}" in raised.text and "send_daily" in raised.text
    assert raised.url == reverse("admin:messaging_broadcast_changelist")
    assert "has not started" in admin_client.get("/admin/").content.decode()


def test_a_broadcast_that_began_or_a_day_without_content_raises_nothing(settings):
    due_minutes_ago(40)
    day = daily_due.today().day
    Broadcast.objects.create(
        idempotency_key=f"daily:{day.isoformat()}", name="Daily", text="Shalom", state="sending",
        started_at=timezone.now() - timedelta(minutes=38),
    )  # fmt: skip
    assert alert(alerts.daily_broadcast_late) is None
    Broadcast.objects.all().delete()
    settings.DAILY_FALLBACK_TEXT = ""  # and no DailyContent: the day is skipped on purpose
    assert daily_due.today().due_at is None and alert(alerts.daily_broadcast_late) is None
    DailyContent.objects.create(date=day, text="Today's word")
    assert alert(alerts.daily_broadcast_late) is not None


def test_in_local_time_mode_the_day_begins_with_its_first_wave(settings):
    due = due_minutes_ago(20)
    PeriodicTask.objects.filter(name=schedule.PERIODIC_TASK_NAME).update(
        kwargs=json.dumps({"mode": "local_time"})
    )
    west = change("+13125550141", "opted_in", "import", {"file": "t.csv"}).subscriber
    Subscriber.objects.filter(pk=west.pk).update(timezone=neighbour_zone(due.tzinfo, -1))
    # Their send time comes an hour after the schedule's own clock: not late yet.
    assert daily_due.today().due_at == due + timedelta(hours=1)
    assert alert(alerts.daily_broadcast_late) is None
    east = change("+13125550142", "opted_in", "import", {"file": "t.csv"}).subscriber
    Subscriber.objects.filter(pk=east.pk).update(timezone=neighbour_zone(due.tzinfo, 1))
    # Someone whose day began an hour earlier: the first wave was 80 minutes ago.
    assert daily_due.today().due_at == due - timedelta(hours=1)
    assert "80 minutes ago" in alert(alerts.daily_broadcast_late).text


def test_a_schedule_turned_off_or_not_for_today_expects_nothing():
    due_minutes_ago(40)
    PeriodicTask.objects.filter(name=schedule.PERIODIC_TASK_NAME).update(enabled=False)
    assert daily_due.today().due_at is None
    due_minutes_ago(40)
    task = PeriodicTask.objects.get(name=schedule.PERIODIC_TASK_NAME)
    today = daily_due.today().day
    task.crontab.day_of_week = str((today.isoweekday() + 1) % 7)  # tomorrow only
    task.crontab.save()
    assert daily_due.today().due_at is None


def test_sends_needing_review_for_over_an_hour_raise_a_banner_with_their_list(admin_client):
    subscriber = change("+13125550123", "opted_in", "import", {"file": "t.csv"}).subscriber
    message = Message.objects.create(
        direction="outbound", kind="broadcast", provider="twilio", phone=subscriber.phone,
        subscriber=subscriber, body="Daily", status="needs_review",
    )  # fmt: skip
    assert alert(alerts.messages_needing_review) is None  # its callback may still come
    Message.objects.filter(pk=message.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    raised = alert(alerts.messages_needing_review)
    assert raised.level == alerts.WARNING and raised.text.startswith("1 message(s) need review")
    listed = admin_client.get(raised.url).content.decode()
    assert f"/admin/messaging/message/{message.pk}/change/" in listed


def test_the_heartbeat_sends_the_dead_mans_switch_figures(aws, settings):
    due = due_minutes_ago(20)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    assert monitoring.heartbeat(now) == 1  # due 20 minutes ago, not begun
    assert monitoring.heartbeat(due - timedelta(minutes=1)) == 0  # before its time

    def points(name: str, statistic: str) -> dict:
        answer = client("cloudwatch").get_metric_statistics(
            Namespace="SMSBot", MetricName=name, StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(minutes=1), Period=60, Statistics=[statistic],
        )  # fmt: skip
        return {p["Timestamp"]: p[statistic] for p in answer["Datapoints"]}

    assert sorted(points("DailyBroadcastPending", "Maximum").values()) == [0.0, 1.0]
    assert sum(points("BeatHeartbeat", "Sum").values()) == 2.0


def started_signals() -> float:
    now = timezone.now()
    answer = client("cloudwatch").get_metric_statistics(
        Namespace="SMSBot", MetricName="DailyBroadcastStarted",
        StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=1),
        Period=60, Statistics=["Sum"],
    )  # fmt: skip
    return sum(p["Sum"] for p in answer["Datapoints"])


@pytest.mark.django_db(transaction=True)
def test_the_worker_that_begins_the_days_broadcast_says_so(aws, settings):
    tasks.start_daily_broadcast.apply()
    assert started_signals() == 1.0
    tasks.start_daily_broadcast.apply()  # already begun: said once
    assert started_signals() == 1.0
