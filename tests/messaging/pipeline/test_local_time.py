"""Delivery windows end to end: the daily message at each subscriber's local time across
DST changes, quiet hours holding a late broadcast, PAUSE / RESUME / TIME from signed
webhooks, all sent by a real Celery worker while the test moves the clock.

The beat task that runs every minute is run the way beat runs it (published to the
broker for the worker) at the moments that matter, or called in the test's process
where only "nothing happens yet" is checked.
"""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from messaging import task_names
from messaging.broadcasts import waves
from messaging.broadcasts.schedule import PERIODIC_TASK_NAME
from messaging.models import (
    Broadcast,
    BroadcastState,
    DailyContent,
    Message,
    MessageStatus,
    Wave,
)
from smsbot.celery import REPLIES_QUEUE, app
from subscribers import localtime
from subscribers.importing import import_csv
from subscribers.models import Subscriber
from tests.messaging.pipeline.conftest import wait_for
from tests.messaging.webhooks.conftest import AUTH_TOKEN, TwilioPoster
from tests.messaging.webhooks.test_twilio_inbound import reply_of

ZONES = {
    "+13125550101": "Pacific/Honolulu",
    "+13125550102": "America/Phoenix",  # no DST
    "+13125550103": "America/Chicago",
    "+13125550104": "Europe/London",
    "+13125550105": "Australia/Sydney",
}
TEN = time(10, 0)


def import_subscribers(zones: dict[str, str]) -> dict[str, Subscriber]:
    """Through the CSV import, its timezone column included."""
    rows = "".join(f"{phone},signed up at the fair,{zone}\n" for phone, zone in zones.items())
    report = import_csv("phone,evidence,timezone\n" + rows, "fair.csv", dry_run=False)
    assert not report.errors, report.errors
    return {s.phone: s for s in Subscriber.objects.filter(phone__in=zones)}


def local_time_mode() -> None:
    PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME).update(
        kwargs=json.dumps({"mode": "local_time"})
    )


def beat_check() -> None:
    """What beat does at the start of a minute: publish the check for a worker."""
    app.send_task(task_names.CHECK_DELIVERY_WINDOWS, queue=REPLIES_QUEUE)


def daily_messages(day: date) -> dict[str, Message]:
    rows = Message.objects.filter(broadcast__idempotency_key=f"daily:{day}").select_related(
        "subscriber"
    )
    return {m.subscriber.phone: m for m in rows}


def sent(day: date, phones: set[str]) -> bool:
    messages = daily_messages(day)
    return all(p in messages and messages[p].status == MessageStatus.SENT for p in phones)


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(localtime.zone(zone))


@pytest.fixture
def quiet(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.QUIET_HOURS = "21:00-08:00"
    yield


# Both 2027 US changes (14 March, 7 November) and both European ones (28 March,
# 31 October), each with the day before and the day after.
DST_DAYS = [
    date(2027, 3, d) for d in (13, 14, 15, 27, 28, 29)
] + [date(2027, 10, 30), date(2027, 10, 31), date(2027, 11, 1)] + [
    date(2027, 11, d) for d in (6, 7, 8)
]  # fmt: skip


@pytest.mark.slow
def test_each_subscriber_gets_the_daily_message_at_10_local_across_dst(
    celery_worker, recording, clock, quiet
):
    local_time_mode()
    subscribers = import_subscribers(ZONES)
    for day in DST_DAYS:
        DailyContent.objects.create(date=day, text=f"Thought for {day}")
    # Every (moment, date, phones due then), in the order the clock meets them.
    due: dict[tuple[datetime, date], set[str]] = {}
    for day in DST_DAYS:
        for phone, zone in ZONES.items():
            due.setdefault((localtime.at(day, TEN, zone), day), set()).add(phone)
    for (moment, day), phones in sorted(due.items()):
        clock.set(moment - timedelta(minutes=1))
        waves.check()
        assert not phones & set(daily_messages(day)), f"{day}: a message before 10:00"
        clock.set(moment)
        beat_check()
        wait_for(partial(sent, day, phones), timeout=30, what=f"{day} at {moment:%H:%M} UTC")

    for day in DST_DAYS:
        messages = daily_messages(day)
        assert set(messages) == set(ZONES), day
        for phone, message in messages.items():
            at = local(message.sent_at, ZONES[phone])
            assert (at.date(), at.hour, at.minute) == (day, 10, 0), (day, phone, at)
            assert message.body == f"Thought for {day}"
    # One wave per zone and date: the five zones never share a UTC moment on these dates.
    assert Wave.objects.count() == len(DST_DAYS) * len(ZONES)
    # Each date closes once it has ended everywhere; nothing was sent twice.
    clock.set(waves.date_ends(DST_DAYS[-1]) + timedelta(minutes=1))
    waves.check()
    wait_for(
        lambda: not Broadcast.objects.exclude(state=BroadcastState.DONE).exists(),
        what="every date's broadcast to finish",
    )
    assert len(recording.SENT) == len(set(recording.SENT)) == len(DST_DAYS) * len(ZONES)
    assert {s.pk for s in subscribers.values()} == set(
        Message.objects.values_list("subscriber_id", flat=True)
    )


def test_a_broadcast_started_at_22_chicago_holds_chicago_and_sends_honolulu(
    celery_worker, recording, clock, quiet, settings, monkeypatch
):
    from messaging.providers.registry import MODULES

    # The preview names the provider: SNS, recorded by the test provider.
    monkeypatch.setitem(MODULES, "sns", recording.__name__)
    settings.SMS_PROVIDER = "sns"
    # Friday 15 January 2027, 22:00 in Chicago: 18:00 in Honolulu.
    clock.set(datetime(2027, 1, 16, 4, 0, tzinfo=UTC))
    zones = {"+13125550111": "America/Chicago", "+13125550112": "America/Chicago",
             "+13125550113": "Pacific/Honolulu"}  # fmt: skip
    import_subscribers(zones)
    staff = Client()
    staff.force_login(User.objects.create_superuser("ops", "ops@example.test", "pw-tests"))
    response = staff.post(
        reverse("admin:messaging_broadcast_add"),
        {
            "name": "Late news",
            "text": "Late news",
            "channel": "",
            "whatsapp_content_variables": "{}",
            "_preview": "1",
        },
    )
    preview = staff.get(response.url).content.decode()
    assert "2 recipients are inside quiet hours (21:00-08:00 their time) now" in preview
    staff.post(response.url, {"send": "1", "confirmed": "1"})

    def messages() -> dict[str, Message]:
        return {m.phone: m for m in Message.objects.filter(broadcast__name="Late news")}

    wait_for(lambda: messages().get("+13125550113", Message()).status == MessageStatus.SENT)
    wait_for(
        lambda: (
            len(messages()) == 3
            and all(m.next_attempt_at for p, m in messages().items() if p != "+13125550113")
        ),
        what="Chicago to be held",
    )
    morning = datetime(2027, 1, 16, 14, 0, tzinfo=UTC)  # 08:00 CST
    for phone in ("+13125550111", "+13125550112"):
        message = messages()[phone]
        assert (message.status, message.next_attempt_at, message.attempts) == (
            MessageStatus.QUEUED, morning, 0,
        )  # fmt: skip
    assert Broadcast.objects.get().state == BroadcastState.SENDING  # held, not failed

    clock.set(morning - timedelta(minutes=1))
    assert waves.check().released == 0
    clock.set(morning)
    beat_check()
    wait_for(lambda: all(m.status == MessageStatus.SENT for m in messages().values()))
    for phone in ("+13125550111", "+13125550112"):
        at = local(messages()[phone].sent_at, "America/Chicago")
        assert (at.day, at.hour, at.minute) == (16, 8, 0)
    wait_for(lambda: Broadcast.objects.get().state == BroadcastState.DONE)
    assert sorted(recording.SENT) == sorted(m.pk for m in messages().values())


# --- PAUSE, RESUME, TIME through signed webhooks, then the daily waves -------------------

# Monday 10 May 2027 in Chicago (CDT, UTC-5).
MONDAY = date(2027, 5, 10)
ME, OTHER = "+13125550121", "+13125550122"


@pytest.fixture
def chicago_pair(celery_worker, recording, clock, quiet, client, settings):  # type: ignore[no-untyped-def]
    """Two Chicago subscribers in local-time mode, Monday's message already sent."""
    local_time_mode()
    import_subscribers({ME: "America/Chicago", OTHER: "America/Chicago"})
    for offset in range(8):
        DailyContent.objects.create(date=MONDAY + timedelta(days=offset), text=f"Day {offset}")
    run_day(clock, MONDAY, {ME, OTHER})
    clock.set(localtime.at(MONDAY, time(12, 0), "America/Chicago"))
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_VALIDATE_SIGNATURES = True
    return TwilioPoster(client, settings.PUBLIC_BASE_URL)


def run_day(clock, day: date, expected: set[str], at: time = TEN) -> None:  # type: ignore[no-untyped-def]
    """The clock at a send time that day in Chicago, the beat check, the sends."""
    clock.set(localtime.at(day, at, "America/Chicago"))
    beat_check()
    wait_for(lambda: sent(day, expected), what=f"{day} {at} sends")


def test_pause_3_means_no_message_for_three_days_and_one_on_the_fourth(chicago_pair, clock):
    answer = reply_of(chicago_pair.inbound("PAUSE 3", sender=ME))
    assert "start again on Friday 14 May" in answer
    for offset in (1, 2, 3):
        run_day(clock, MONDAY + timedelta(days=offset), {OTHER})
        assert ME not in daily_messages(MONDAY + timedelta(days=offset))
    run_day(clock, MONDAY + timedelta(days=4), {ME, OTHER})


def test_resume_ends_the_pause_at_once(chicago_pair, clock):
    reply_of(chicago_pair.inbound("PAUSE 5", sender=ME))
    run_day(clock, MONDAY + timedelta(days=1), {OTHER})
    clock.set(localtime.at(MONDAY + timedelta(days=1), time(15, 0), "America/Chicago"))
    assert "start again on Wednesday 12 May" in reply_of(chicago_pair.inbound("RESUME", sender=ME))
    run_day(clock, MONDAY + timedelta(days=2), {ME, OTHER})
    assert ME not in daily_messages(MONDAY + timedelta(days=1))


def test_time_1930_moves_that_subscribers_message(chicago_pair, clock):
    answer = reply_of(chicago_pair.inbound("TIME 19:30", sender=ME))
    assert answer == "Done: your daily message will come at 7:30 PM your time (America/Chicago)."
    tuesday = MONDAY + timedelta(days=1)
    run_day(clock, tuesday, {OTHER})
    assert ME not in daily_messages(tuesday)
    out = StringIO()
    call_command("send_daily", "--date", str(tuesday), "--dry-run", stdout=out)
    assert "19:30 America/Chicago | 2027-05-12 00:30 UTC | 1 | " in out.getvalue()
    run_day(clock, tuesday, {ME, OTHER}, at=time(19, 30))
    at = local(daily_messages(tuesday)[ME].sent_at, "America/Chicago")
    assert (at.hour, at.minute) == (19, 30)


def test_stop_during_a_pause_opts_out_and_nothing_comes_after_it(chicago_pair, clock):
    reply_of(chicago_pair.inbound("PAUSE 1", sender=ME))
    reply_of(chicago_pair.inbound("STOP", sender=ME))
    run_day(clock, MONDAY + timedelta(days=3), {OTHER})
    assert ME not in daily_messages(MONDAY + timedelta(days=3))
    assert Subscriber.objects.get(phone=ME).consent_status == "opted_out"
