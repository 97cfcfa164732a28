"""The minute check in-process: which waves a date has, when each is recorded, what
send_daily and the broadcast's page show, and what it leaves alone."""

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from messaging.broadcasts import daily, fanout, waves
from messaging.broadcasts.schedule import PERIODIC_TASK_NAME, current
from messaging.models import Broadcast, BroadcastState, DailyContent, Message, Wave
from subscribers import delivery_window, localtime
from subscribers.models import Subscriber
from tests.messaging.pipeline.conftest import opted_in

pytestmark = pytest.mark.django_db
DAY = date(2027, 7, 1)  # summer: Chicago UTC-5, London UTC+1, Sydney UTC+10


def zones(*names: str) -> list[Subscriber]:
    subscribers = opted_in(len(names))
    for subscriber, name in zip(subscribers, names, strict=True):
        subscriber.timezone = name
        subscriber.save(update_fields=["timezone"])
    return subscribers


def set_schedule(mode: str = "local_time", enabled: bool = True) -> None:
    PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME).update(
        kwargs=json.dumps({"mode": mode}), enabled=enabled
    )


def at(zone: str, clock: time = time(10, 0), day: date = DAY) -> datetime:
    return localtime.at(day, clock, zone)


@pytest.fixture
def content():  # type: ignore[no-untyped-def]
    DailyContent.objects.create(date=DAY, text="Hello")  # the days around it have none


def test_the_schedule_reads_its_mode_from_the_periodic_tasks_kwargs():
    assert current().mode == "same_moment" and not current().local_time
    set_schedule("local_time", enabled=False)
    schedule = current()
    assert (schedule.hour, schedule.minute, schedule.timezone) == (10, 0, "America/Chicago")
    assert schedule.local_time and not schedule.enabled


def test_zones_sharing_a_moment_share_a_wave_and_a_preferred_time_makes_its_own(settings):
    settings.SMS_PROVIDER = "sns"
    _, _, london, _ = zones("America/Chicago", "America/Winnipeg", "Europe/London", "Europe/London")
    delivery_window.set_preferred_time(london, time(19, 30), "admin", {"admin_user": "ops"})
    planned = waves.plan(DAY, time(10, 0), waves.audience_groups())
    assert [(w.due_at, w.recipients) for w in planned] == [
        (at("Europe/London"), 1),
        (at("America/Chicago"), 2),  # Winnipeg is on Chicago's time in July
        (at("Europe/London", time(19, 30)), 1),
    ]
    assert planned[1].cost("Hello", template=False) == Decimal("0.01290")


def test_a_wave_is_recorded_when_due_and_not_before(content, clock):
    set_schedule()
    _, sydney = zones("America/Chicago", "Australia/Sydney")
    clock.set(at("Australia/Sydney") - timedelta(minutes=1))
    assert waves.check().waves == 0 and not Broadcast.objects.exists()
    clock.set(at("Australia/Sydney"))
    assert waves.check().waves == 1
    broadcast = Broadcast.objects.get()
    assert (broadcast.idempotency_key, broadcast.mode, broadcast.state) == (
        f"daily:{DAY}", "local_time", BroadcastState.SENDING,
    )  # fmt: skip
    wave = Wave.objects.get()
    assert (wave.due_at, wave.groups, wave.recipients) == (
        at("Australia/Sydney"), [["Australia/Sydney", None]], 1,
    )  # fmt: skip
    assert waves.check().waves == 0  # a second look the same minute adds nothing
    fanout.fan_out(broadcast.pk)
    assert list(Message.objects.values_list("subscriber_id", flat=True)) == [sydney.pk]
    clock.set(at("America/Chicago"))
    assert waves.check().waves == 1
    fanout.fan_out(broadcast.pk)
    assert Message.objects.count() == 2


def test_a_late_joiner_waits_for_the_next_date_and_a_day_over_is_not_sent(content, clock):
    set_schedule()
    zones("America/Chicago")
    clock.set(at("America/Chicago"))
    waves.check()
    # Half an hour later someone in Winnipeg (same moment) joins: today's wave has gone.
    clock.set(at("America/Chicago") + timedelta(minutes=30))
    zones("America/Winnipeg")
    assert waves.check().waves == 0
    # Beat was down all day: the next look is after Honolulu's day is over.
    Subscriber.objects.create(
        phone="+13125550180", consent_status="opted_in", timezone="Pacific/Honolulu"
    )
    clock.set(datetime.combine(DAY + timedelta(days=1), time(10, 1), tzinfo=UTC))
    waves.check()
    assert not Wave.objects.filter(due_at=at("Pacific/Honolulu")).exists()


def test_a_date_closes_once_it_has_ended_everywhere(content, clock):
    set_schedule()
    zones("America/Chicago")
    clock.set(at("America/Chicago"))
    waves.check()
    broadcast = Broadcast.objects.get(idempotency_key=f"daily:{DAY}")
    fanout.fan_out(broadcast.pk)
    clock.set(waves.date_ends(DAY) - timedelta(minutes=1))
    waves.check()
    fanout.fan_out(broadcast.pk)
    broadcast.refresh_from_db()
    assert not broadcast.fanout_done
    clock.set(waves.date_ends(DAY))
    waves.check()
    fanout.fan_out(broadcast.pk)
    broadcast.refresh_from_db()
    assert broadcast.fanout_done


def test_same_moment_mode_and_a_disabled_schedule_start_no_waves(content, clock):
    zones("America/Chicago")
    clock.set(at("America/Chicago"))
    assert waves.check().waves == 0  # same moment: the 10:00 task does it
    set_schedule(enabled=False)
    assert waves.check().waves == 0
    assert not Broadcast.objects.exists()


def test_a_date_already_sent_at_the_same_moment_is_not_sent_again_in_waves(content, clock):
    zones("America/Chicago", "Australia/Sydney")
    clock.set(at("America/Chicago"))
    daily.start(DAY)  # the same-moment broadcast of the day
    set_schedule()  # then an operator switches to local time
    assert waves.check().waves == 0
    assert not Wave.objects.exists()


def test_the_daily_task_in_local_mode_leaves_the_waves_to_the_check(content, clock):
    from messaging.tasks import start_daily_broadcast

    zones("America/Chicago")
    clock.set(at("America/Chicago"))
    assert "waves" in start_daily_broadcast(mode="local_time")
    assert not Broadcast.objects.exists()


def test_send_daily_shows_and_starts_the_waves_in_local_mode(content, clock, settings):
    settings.SMS_PROVIDER = "sns"
    set_schedule()
    zones("America/Chicago", "America/Chicago", "Europe/London")
    clock.set(at("Europe/London") + timedelta(hours=1))

    out = StringIO()
    call_command("send_daily", "--date", str(DAY), "--dry-run", stdout=out)
    text = out.getvalue()
    assert "waves: 2 (local time, UTC, recipients, projected cost)" in text
    assert "10:00 Europe/London | 2027-07-01 09:00 UTC | 1 | 0.0064 USD | due" in text
    assert "10:00 America/Chicago | 2027-07-01 15:00 UTC | 2 | 0.0129 USD | upcoming" in text
    assert not Broadcast.objects.exists()

    out = StringIO()
    call_command("send_daily", "--date", str(DAY), stdout=out)
    text = out.getvalue()
    assert "1 wave(s) started now" in text
    assert "10:00 Europe/London | 2027-07-01 09:00 UTC | 1 | 0.0064 USD | started" in text
    call_command("send_daily", "--date", str(DAY), stdout=StringIO())
    assert Wave.objects.count() == 1  # idempotent


def test_the_broadcast_page_lists_its_waves(content, clock, settings):
    settings.SMS_PROVIDER = "sns"
    set_schedule()
    zones("America/Chicago", "Pacific/Honolulu")
    clock.set(at("America/Chicago"))
    waves.check()
    staff = Client()
    staff.force_login(User.objects.create_superuser("ops", "ops@example.test", "pw-tests"))
    broadcast = Broadcast.objects.get()
    page = staff.get(reverse("admin:messaging_broadcast_change", args=[broadcast.pk]))
    html = page.content.decode()
    # Due in the operations timezone, the UTC moment on hover.
    assert (
        '<td>10:00 America/Chicago</td><td><time title="Thu 1 Jul 2027, 15:00 UTC">'
        "Thu 1 Jul 2027, 10:00 CDT</time></td><td>1</td>"
    ) in html
    assert (
        '<td>10:00 Pacific/Honolulu</td><td><time title="Thu 1 Jul 2027, 20:00 UTC">'
        "Thu 1 Jul 2027, 15:00 CDT</time></td><td>1</td>"
    ) in html
    assert "<td>started</td>" in html and "<td>upcoming</td>" in html
