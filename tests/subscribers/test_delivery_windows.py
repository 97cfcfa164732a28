"""A subscriber's delivery window: timezone from the number, quiet hours, pause and
preferred time with their history, the import column, the mirror item, the admin."""

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from subscribers import delivery_window, localtime
from subscribers.mirror.write import subscriber_item
from subscribers.models import Subscriber, SubscriberEvent
from subscribers.phones import timezone_for
from tests.subscribers.conftest import run_action

EVIDENCE = {"text": "PAUSE 3", "message_id": "SM1"}


# --- timezone from the number -------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        ("+13125550123", "America/Chicago"),  # one zone
        ("+61491570006", "Australia/Adelaide"),  # a mobile range over several: the first
        ("erased-12", "America/Chicago"),  # not a number: DAILY_SEND_TIMEZONE
    ],
)
def test_a_number_gives_its_timezone(phone, zone):
    assert timezone_for(phone) == zone


def test_the_send_timezone_wins_when_it_is_one_of_the_numbers_zones(settings):
    settings.DAILY_SEND_TIMEZONE = "Australia/Sydney"
    assert timezone_for("+61491570006") == "Australia/Sydney"


@pytest.mark.django_db
def test_a_new_subscriber_gets_the_zone_of_its_number(subscribe):
    assert subscribe("+61491570010").timezone == "Australia/Adelaide"
    assert subscribe("+13125550123").timezone == "America/Chicago"


@pytest.mark.django_db
def test_the_data_migration_fills_blank_zones_in_batches(subscribe, monkeypatch):
    import importlib

    fill = importlib.import_module("subscribers.migrations.0008_fill_subscriber_timezones")
    monkeypatch.setattr(fill, "BATCH", 2)
    for i in range(5):
        subscribe(f"+1312555010{i}")
    subscribe("+61491570020")
    Subscriber.objects.update(timezone="")
    fill.fill(apps, None)
    zones = sorted(Subscriber.objects.values_list("timezone", flat=True))
    assert zones == ["America/Chicago"] * 5 + ["Australia/Adelaide"]


# --- quiet hours ---------------------------------------------------------------------


def test_quiet_hours_may_wrap_midnight():
    quiet = localtime.parse_quiet_hours("21:00-08:00")
    assert time(21, 0) in quiet and time(3, 0) in quiet and time(7, 59) in quiet
    assert time(8, 0) not in quiet and time(20, 59) not in quiet
    day = localtime.parse_quiet_hours("12:00-13:30")
    assert time(12, 0) in day and time(13, 30) not in day and time(11, 0) not in day


@pytest.mark.parametrize("value", ["21-08", "21:00", "25:00-08:00", "08:00-08:00", "9pm-8am"])
def test_bad_quiet_hours_are_a_clear_error(value):
    with pytest.raises(ImproperlyConfigured, match="QUIET_HOURS"):
        localtime.parse_quiet_hours(value)


def test_empty_quiet_hours_are_off(settings):
    settings.QUIET_HOURS = ""
    assert localtime.held_until("America/Chicago", datetime(2027, 1, 1, 5, tzinfo=UTC)) is None


def test_a_message_inside_quiet_hours_waits_for_their_end_on_the_recipients_clock(settings):
    settings.QUIET_HOURS = "21:00-08:00"
    # 22:00 in Chicago (CST) is 18:00 in Honolulu: Chicago waits until 08:00 CST.
    late = datetime(2027, 1, 16, 4, 0, tzinfo=UTC)
    assert localtime.held_until("America/Chicago", late) == datetime(2027, 1, 16, 14, tzinfo=UTC)
    assert localtime.held_until("Pacific/Honolulu", late) is None
    # 03:00 after midnight: the same night's end, not the next one.
    night = datetime(2027, 1, 16, 9, 0, tzinfo=UTC)
    assert localtime.held_until("America/Chicago", night) == datetime(2027, 1, 16, 14, tzinfo=UTC)


def test_the_end_of_quiet_hours_follows_a_dst_change(settings):
    settings.QUIET_HOURS = "21:00-08:00"
    # Saturday 13 March 2027 22:00 CST; clocks go forward that night: 08:00 CDT = 13:00 UTC.
    saturday_night = datetime(2027, 3, 14, 4, 0, tzinfo=UTC)
    assert localtime.held_until("America/Chicago", saturday_night) == datetime(
        2027, 3, 14, 13, 0, tzinfo=UTC
    )


def test_a_wall_clock_time_skipped_by_dst_lands_just_after_and_a_doubled_one_once():
    chicago = "America/Chicago"
    assert localtime.at(date(2027, 3, 14), time(2, 30), chicago) == datetime(
        2027, 3, 14, 8, 30, tzinfo=UTC
    )  # 03:30 CDT
    assert localtime.at(date(2027, 11, 7), time(1, 30), chicago) == datetime(
        2027, 11, 7, 6, 30, tzinfo=UTC
    )  # the first 01:30 (CDT)


# --- pause, resume, preferred time ------------------------------------------------------


@pytest.mark.django_db
def test_a_pause_ends_at_local_midnight_and_is_kept_in_the_history(subscribe):
    sub = subscribe("+61491570030")
    sub.timezone = "Australia/Sydney"
    sub.save(update_fields=["timezone"])
    version = Subscriber.objects.get().version
    result = delivery_window.pause(sub, date(2027, 6, 2), "sms_keyword", EVIDENCE)
    assert result.changed
    sub.refresh_from_db()
    assert sub.paused_until == datetime(2027, 6, 1, 14, 0, tzinfo=UTC)  # 00:00 AEST
    assert sub.version == version + 1  # the mirror follows
    assert sub.consent_status == "opted_in"
    assert delivery_window.is_paused(sub, datetime(2027, 6, 1, 13, 59, tzinfo=UTC))
    assert not delivery_window.is_paused(sub, datetime(2027, 6, 1, 14, 0, tzinfo=UTC))
    assert delivery_window.resume(sub, "admin", {"admin_user": "ops"}).changed
    assert not delivery_window.resume(sub, "admin", {"admin_user": "ops"}).changed  # nothing to end
    events = list(sub.events.order_by("id").values_list("kind", "before", "after", "source"))
    assert events == [
        ("paused", "", "2027-06-02", "sms_keyword"),
        ("resumed", "2027-06-02", "", "admin"),
    ]


@pytest.mark.django_db
def test_a_preferred_time_inside_quiet_hours_is_refused(subscribe, settings):
    settings.QUIET_HOURS = "21:00-08:00"
    sub = subscribe("+13125550123")
    with pytest.raises(ValidationError, match="08:00 to 20:59"):
        delivery_window.set_preferred_time(sub, time(22, 0), "admin", {"admin_user": "ops"})
    delivery_window.set_preferred_time(sub, time(19, 30), "admin", {"admin_user": "ops"})
    sub.refresh_from_db()
    assert sub.preferred_time == time(19, 30)
    assert sub.events.get().after == "19:30"


@pytest.mark.django_db
def test_subscriber_events_are_append_only(subscribe):
    sub = subscribe("+13125550123")
    delivery_window.pause(sub, date(2027, 6, 2), "sms_keyword", EVIDENCE)
    event = SubscriberEvent.objects.get()
    if connection.vendor == "postgresql":
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM subscribers_subscriberevent WHERE id = %s", [event.pk])
    with pytest.raises(PermissionDenied, match="Subscriber events are append-only"):
        SubscriberEvent.objects.filter(pk=event.pk).update(after="2030-01-01")
    with pytest.raises(PermissionDenied):
        event.delete()
    event.after = "2030-01-01"
    with pytest.raises(PermissionDenied):
        event.save()
    assert SubscriberEvent.objects.get().after == "2027-06-02"


# --- mirror item ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_mirror_item_carries_the_window_in_the_tables_style(subscribe):
    sub = subscribe("+13125550123")
    item = subscriber_item(sub)
    assert item["timezone"] == "America/Chicago"
    assert "preferred_time" not in item and "paused_until" not in item  # unset: absent
    delivery_window.pause(sub, date(2027, 6, 2), "admin", {"admin_user": "ops"})
    delivery_window.set_preferred_time(sub, time(7, 30), "admin", {"admin_user": "ops"})
    sub.refresh_from_db()
    item = subscriber_item(sub)
    assert item["paused_until"] == "2027-06-02T05:00:00Z"
    assert item["preferred_time"] == "07:30"


# --- import ---------------------------------------------------------------------------


CSV = (
    "phone,evidence,timezone\n+13125550101,fair sheet,Pacific/Honolulu\n+13125550102,fair sheet,\n"
)


@pytest.mark.django_db
def test_the_import_sets_the_timezone_column_or_keeps_the_numbers(tmp_path: Path, capsys):
    path = tmp_path / "members.csv"
    path.write_text(CSV)
    call_command("import_subscribers", str(path))
    zones = dict(Subscriber.objects.values_list("phone", "timezone"))
    assert zones == {"+13125550101": "Pacific/Honolulu", "+13125550102": "America/Chicago"}
    # Moving a subscriber to another zone is an update; the same file again changes nothing.
    path.write_text(CSV.replace("Pacific/Honolulu", "America/Phoenix"))
    call_command("import_subscribers", str(path))
    assert Subscriber.objects.get(phone="+13125550101").timezone == "America/Phoenix"
    capsys.readouterr()
    call_command("import_subscribers", str(path))
    assert "0 new, 0 update, 2 skip" in capsys.readouterr().out


@pytest.mark.django_db
def test_an_unknown_timezone_is_a_row_error_and_nothing_is_written(tmp_path: Path):
    path = tmp_path / "members.csv"
    path.write_text("phone,evidence,timezone\n+13125550101,fair,Chicago\n")
    with pytest.raises(CommandError, match="row 1: timezone: unknown timezone 'Chicago'"):
        call_command("import_subscribers", str(path))
    assert not Subscriber.objects.exists()


# --- admin ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_pause_until_and_resume_from_the_admin_are_audited(ops_client, subscribe):
    today = localtime.local_date(timezone.now(), "America/Chicago")
    restart = today + timedelta(days=7)
    a, b = subscribe("+13125550101"), subscribe("+13125550102")
    response = run_action(ops_client, "pause_until", [a, b])
    assert (
        b"Pause for (days)" in response.content
        and b"Or messages start again on" in response.content
    )
    response = run_action(
        ops_client, "pause_until", [a, b], restart=str(today), reason="asked by e-mail"
    )
    assert b"Choose a date after today." in response.content
    run_action(ops_client, "pause_until", [a, b], restart=str(restart), reason="asked by e-mail")
    a.refresh_from_db()
    assert a.paused_until == localtime.at(restart, time(0), "America/Chicago")
    event = a.events.get()
    assert (event.kind, event.source, event.evidence["reason"]) == (
        "paused", "admin", "asked by e-mail",
    )  # fmt: skip
    assert event.evidence["admin_user"] == "operations_manager"
    entry = LogEntry.objects.filter(object_id=str(a.pk)).get()
    assert entry.change_message == (
        f"Paused: messages start again: (empty) → {restart} (asked by e-mail)"
    )
    run_action(ops_client, "resume", [a])
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.paused_until is None and b.paused_until is not None
    assert LogEntry.objects.filter(object_id=str(a.pk)).latest("id").change_message == (
        f"Resumed: messages start again: {restart} → now"
    )


@pytest.mark.django_db
def test_the_page_buttons_refuse_what_they_do_not_offer(ops_client, subscribe):
    tomorrow = localtime.local_date(timezone.now(), "America/Chicago") + timedelta(days=1)
    out = subscribe("+13125550103", status="opted_out")
    live = subscribe("+13125550104")

    def post(subscriber, **data):
        url = reverse("admin:subscribers_subscriber_pause", args=[subscriber.pk])
        response = ops_client.post(url, data, follow=True)
        return " ".join(str(m) for m in response.context["messages"])

    pause = {"operation": "pause", "pause-restart": str(tomorrow), "pause-reason": "asked"}
    assert "Nothing changed: +13125550103 is opted out and not paused." in post(out, **pause)
    assert "Nothing changed: +13125550104 is opted in and not paused." in post(
        live, operation="resume"
    )
    assert "Nothing changed" in post(live, operation="delete")
    assert "Reason: This field is required." in post(live, **{**pause, "pause-reason": ""})
    assert "Or messages start again on: Enter a valid date." in post(
        live, **{**pause, "pause-restart": "2027-02-30\x00"}
    )
    assert not SubscriberEvent.objects.exists() and not LogEntry.objects.exists()
    assert (
        ops_client.get(reverse("admin:subscribers_subscriber_pause", args=[live.pk])).status_code
        == 405
    )


@pytest.mark.django_db
def test_pause_for_days_from_the_admin_is_the_keywords_pause(ops_client, subscribe):
    from subscribers import delivery_window

    live = subscribe("+13125550105")
    url = reverse("admin:subscribers_subscriber_pause", args=[live.pk])

    def post(**data):
        response = ops_client.post(url, {"operation": "pause", **data}, follow=True)
        return " ".join(str(m) for m in response.context["messages"])

    tomorrow = localtime.local_date(timezone.now(), "America/Chicago") + timedelta(days=1)
    both = post(**{"pause-days": "3", "pause-restart": str(tomorrow), "pause-reason": "asked"})
    assert "Give either a number of days or a date, not both." in both
    assert "not neither." in post(**{"pause-reason": "asked"})
    assert "Pause for (days): Ensure this value is less than or equal to 90." in post(
        **{"pause-days": "91", "pause-reason": "asked"}
    )
    assert not SubscriberEvent.objects.exists()

    expected = delivery_window.restart_after(live, 3, timezone.now())  # what PAUSE 3 by SMS gives
    said = post(**{"pause-days": "3", "pause-reason": "asked by phone"})
    assert f"+13125550105: paused; messages start again on {expected}." in said
    live.refresh_from_db()
    assert live.paused_until == localtime.at(expected, time(0), live.timezone)
    assert live.events.get().evidence["days"] == 3

    # The list's action takes days too.
    other = subscribe("+13125550106")
    run_action(ops_client, "pause_until", [other], days="5", reason="asked by e-mail")
    other.refresh_from_db()
    restart = delivery_window.restart_after(other, 5, timezone.now())
    assert other.paused_until == localtime.at(restart, time(0), other.timezone)


@pytest.mark.django_db
def test_the_subscriber_page_edits_timezone_and_preferred_time(subscribe, admin_client, settings):
    settings.QUIET_HOURS = "21:00-08:00"
    sub = subscribe("+13125550123")
    url = reverse("admin:subscribers_subscriber_change", args=[sub.pk])
    page = admin_client.get(url).content.decode()
    assert "Delivery window" in page and "America/Chicago" in page
    form = {
        "channel": "sms",
        "timezone": "Chicago",
        "preferred_time": "23:00",
        **{
            f"{inline}-{n}_FORMS": "0"
            for inline in ("consent_events", "events")
            for n in ("TOTAL", "INITIAL")
        },
    }
    page = admin_client.post(url, form).content.decode()
    assert "is not an IANA timezone name" in page and "inside the quiet hours" in page
    form.update(timezone="Europe/London", preferred_time="07:30")
    page = admin_client.post(url, form).content.decode()
    assert "inside the quiet hours" in page
    form["preferred_time"] = "09:15"
    assert admin_client.post(url, form).status_code == 302
    sub.refresh_from_db()
    assert (sub.timezone, sub.preferred_time) == ("Europe/London", time(9, 15))
    event = sub.events.get()
    assert (event.kind, event.after, event.source) == ("preferred_time", "09:15", "admin")
