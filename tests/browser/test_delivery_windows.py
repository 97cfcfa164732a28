"""Delivery windows in a real browser: pausing and resuming a subscriber from the list
and from its page, the subscriber's window and its history, a local-time broadcast's
waves."""

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django_celery_beat.models import PeriodicTask

from messaging.broadcasts import waves
from messaging.broadcasts.schedule import PERIODIC_TASK_NAME
from messaging.models import Broadcast, DailyContent
from subscribers import localtime
from subscribers.consent import change
from subscribers.models import Subscriber
from tests.ops.factories import OPS_PASSWORD, ops_manager

PERMISSIONS = ("subscribers.change_subscriber",)


@pytest.mark.browser
def test_an_operator_pauses_a_subscriber_until_a_date_then_resumes_them(visitor, clock):
    # Tuesday 1 June 2027, noon in Chicago.
    clock.set(datetime(2027, 6, 1, 17, 0, tzinfo=UTC))
    change("+13125550123", "opted_in", "sms_keyword", {"text": "JOIN", "message_sid": "SM1"})
    user = ops_manager("ops", extra_permissions=PERMISSIONS)
    visitor.log_in(user.username, OPS_PASSWORD)
    page = visitor.page

    visitor.goto("/admin/subscribers/subscriber/")
    page.check("input.action-select")
    page.select_option("select[name=action]", "pause_until")
    visitor.follow(page.locator("button[name=index]"))
    page.fill("input[name=restart]", "2027-06-15")
    page.fill("textarea[name=reason]", "on holiday, asked by e-mail")
    visitor.follow(page.locator("input[type=submit][value='Pause…']"))
    assert "Pause…: 1 of 1 changed." in page.inner_text(".messagelist")

    visitor.follow(page.locator("#result_list a", has_text="+13125550123"))
    window = page.get_by_role("group", name="Delivery window", exact=True)
    assert page.input_value("input[name=timezone]") == "America/Chicago"
    assert "messages start again on 2027-06-15 (America/Chicago)" in window.inner_text()
    history = page.locator("#events-group")
    assert history.locator("td.field-kind").first.inner_text().strip() == "Paused"
    assert history.locator("td.field-after").first.inner_text().strip() == "2027-06-15"

    visitor.goto("/admin/subscribers/subscriber/")
    page.check("input.action-select")
    page.select_option("select[name=action]", "resume")
    visitor.follow(page.locator("button[name=index]"))
    assert "Resume: 1 subscriber(s) resumed." in page.inner_text(".messagelist")
    subscriber = Subscriber.objects.get()
    assert subscriber.paused_until is None and subscriber.consent_status == "opted_in"
    assert [e.change_message for e in LogEntry.objects.order_by("id")] == [
        "Paused: messages start again: (empty) → 2027-06-15 (on holiday, asked by e-mail)",
        "Resumed: messages start again: 2027-06-15 → now",
    ]


@pytest.mark.browser
def test_an_operator_pauses_and_resumes_a_subscriber_from_its_page(visitor, clock):
    clock.set(datetime(2027, 6, 1, 17, 0, tzinfo=UTC))
    subscriber = change("+13125550124", "opted_in", "web_form", {"form": "x"}).subscriber
    user = ops_manager("ops", extra_permissions=PERMISSIONS)
    visitor.log_in(user.username, OPS_PASSWORD)
    page = visitor.page

    visitor.goto(f"/admin/subscribers/subscriber/{subscriber.pk}/change/")
    consent = page.locator(".subscriber-consent")
    assert "Daily messages: not paused." in consent.inner_text()
    # Nothing paused yet: no empty history table.
    assert page.locator("#events-group").count() == 0
    assert page.locator("#pause-resume").count() == 0

    def pause_until(restart: str) -> str:
        page.click("#pause-until > summary")
        page.fill("#pause-until input[name=pause-restart]", restart)
        page.fill("#pause-until textarea[name=pause-reason]", "asked by phone")
        visitor.follow(page.locator("#pause-until input[type=submit]"))
        return page.inner_text(".messagelist")

    assert "Nothing changed. Or messages start again on: Choose a date after today." in (
        pause_until("2027-06-01")
    )
    assert Subscriber.objects.get().paused_until is None

    assert "+13125550124: paused; messages start again on 2027-06-04." in (
        pause_until("2027-06-04")
    )
    assert (
        "Daily messages paused: messages start again on 2027-06-04 (America/Chicago)."
        in consent.inner_text()
    )
    assert consent.locator(".consent-badge").inner_text() == "Opted in"
    history = page.locator("#events-group")
    assert history.locator("td.field-kind").first.inner_text().strip() == "Paused"

    visitor.follow(page.locator("#pause-resume input[type=submit]"))
    assert "+13125550124: resumed; messages start again now." in page.inner_text(".messagelist")
    assert "Daily messages: not paused." in consent.inner_text()
    assert Subscriber.objects.get().paused_until is None
    assert [e.change_message for e in LogEntry.objects.order_by("id")] == [
        "Paused: messages start again: (empty) → 2027-06-04 (asked by phone)",
        "Resumed: messages start again: 2027-06-04 → now",
    ]


@pytest.mark.browser
def test_a_local_time_broadcast_shows_its_waves(visitor, clock, settings):
    settings.SMS_PROVIDER = "sns"
    day = date(2027, 7, 1)
    PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME).update(
        kwargs=json.dumps({"mode": "local_time"})
    )
    DailyContent.objects.create(date=day, text="Good morning")
    for n, zone in enumerate(["America/Chicago", "Pacific/Honolulu", "Europe/London"]):
        sub = change(f"+1312555011{n}", "opted_in", "import", {"file": "x.csv"}).subscriber
        sub.timezone = zone
        sub.save(update_fields=["timezone"])
    clock.set(localtime.at(day, time(10, 0), "America/Chicago") + timedelta(minutes=5))
    waves.check()
    broadcast = Broadcast.objects.get()
    user = ops_manager("ops")
    visitor.log_in(user.username, OPS_PASSWORD)
    page = visitor.page

    visitor.goto(f"/admin/messaging/broadcast/{broadcast.pk}/change/")
    rows = [r.inner_text().split("\t") for r in page.locator("table.waves tbody tr").all()]
    # Due in the operations timezone (the one clock), the UTC moment on hover.
    assert rows == [
        ["10:00 Europe/London", "Thu 1 Jul 2027, 04:00 CDT", "1", "0.0065 USD", "started"],
        ["10:00 America/Chicago", "Thu 1 Jul 2027, 10:00 CDT", "1", "0.0065 USD", "started"],
        ["10:00 Pacific/Honolulu", "Thu 1 Jul 2027, 15:00 CDT", "1", "0.0065 USD", "upcoming"],
    ]
    hovers = page.locator("table.waves tbody tr time").evaluate_all("els => els.map(e => e.title)")
    assert hovers == [
        "Thu 1 Jul 2027, 09:00 UTC",
        "Thu 1 Jul 2027, 15:00 UTC",
        "Thu 1 Jul 2027, 20:00 UTC",
    ]
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
