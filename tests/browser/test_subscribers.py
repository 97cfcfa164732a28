"""Consent work in a real browser: the public opt-in page, the admin opt-out, the CSV import."""

from datetime import time
from pathlib import Path

import pytest

from messaging.broadcasts import schedule
from subscribers.consent import change
from subscribers.models import ConsentEvent, Subscriber
from tests.browser.conftest import Visitor
from tests.ops.factories import OPS_PASSWORD, ops_manager

PHONE_VIEWPORT = {"width": 360, "height": 740}
CONSENT_PERMISSIONS = ("subscribers.change_subscriber", "subscribers.view_consentevent")


@pytest.fixture
def phone_visitor(browser, live_server, artifacts_dir, transactional_db):
    """A small phone screen with JavaScript switched off."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, java_script_enabled=False)
    visit = Visitor(context.new_page(), live_server.url, artifacts_dir)
    try:
        yield visit
        visit.check()
    finally:
        context.close()


@pytest.mark.browser
def test_optin_on_a_phone_without_javascript(phone_visitor, settings):
    settings.TWILIO_WHATSAPP_NUMBER = "+13125550199"
    page = phone_visitor.page
    phone_visitor.goto("/optin/")
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    assert not page.is_checked("input[type=checkbox]")
    assert "JOIN" in page.locator("a[href*='wa.me']").get_attribute("href")

    page.fill("input[name=phone]", "312 555 01")
    phone_visitor.follow(page.locator("button[type=submit]"))
    assert "Please check the number" in page.inner_text("#phone-error")
    assert "Please tick the box" in page.inner_text("#consent-error")

    page.fill("input[name=phone]", "(312) 555-0123")
    page.check("input[value=whatsapp]")
    page.check("input[type=checkbox]")
    phone_visitor.follow(page.locator("button[type=submit]"))
    assert "Check your phone" in page.inner_text("h1")
    sub = Subscriber.objects.get()
    assert (sub.phone, sub.channel, sub.consent_status) == ("+13125550123", "whatsapp", "pending")
    assert "HeadlessChrome" in ConsentEvent.objects.get().evidence["user_agent"]


@pytest.mark.browser
def test_optin_with_local_time_delivery_asks_for_a_time(phone_visitor, settings):
    settings.QUIET_HOURS = "21:00-08:00"
    schedule.update(hour=10, minute=0, timezone="America/Chicago", enabled=True, mode="local_time")
    page = phone_visitor.page
    phone_visitor.goto("/optin/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    page.fill("input[name=phone]", "(312) 555-0123")
    page.fill("input[name=preferred_time]", "06:30")
    page.check("input[type=checkbox]")
    phone_visitor.follow(page.locator("button[type=submit]"))
    assert "inside the quiet hours (21:00-08:00)" in page.inner_text("#time-error")
    assert not Subscriber.objects.exists()

    page.fill("input[name=preferred_time]", "08:15")
    phone_visitor.follow(page.locator("button[type=submit]"))
    assert "Check your phone" in page.inner_text("h1")
    assert Subscriber.objects.get().preferred_time == time(8, 15)


@pytest.mark.browser
def test_operations_manager_opts_a_number_out_and_sees_it_in_the_history(visitor, transactional_db):
    change("+13125550123", "opted_in", "sms_keyword", {"text": "JOIN", "message_sid": "SM1"})
    user = ops_manager("ops", extra_permissions=CONSENT_PERMISSIONS)
    visitor.log_in(user.username, OPS_PASSWORD)
    page = visitor.page

    visitor.goto("/admin/subscribers/subscriber/")
    page.fill("#searchbar", "312.555.0123")
    visitor.follow(page.locator("#changelist-search input[type=submit]"))
    page.check("input.action-select")
    page.select_option("select[name=action]", "opt_out")
    visitor.follow(page.locator("button[name=index]"))
    page.fill("textarea[name=reason]", "asked by phone, ticket 42")
    visitor.follow(page.locator("input[type=submit][value='Opt out']"))
    assert "Opt out: 1 of 1 changed." in page.inner_text(".messagelist")

    # The detail page's consent history shows the change, newest first.
    visitor.follow(page.locator("#result_list a", has_text="+13125550123"))
    newest = page.locator(".consent-history li").first
    assert (
        newest.locator(".consent-line")
        .inner_text()
        .startswith('Opted out by ops in the admin: "asked by phone, ticket 42", ')
    )
    newest.locator("summary").click()
    assert newest.locator("dl").inner_text().count("ticket 42") == 1
    event = ConsentEvent.objects.filter(to_status="opted_out").get()
    assert event.evidence["reason"] == "asked by phone, ticket 42"
    assert event.evidence["admin_user"] == "ops"


@pytest.mark.browser
def test_csv_import_with_a_bad_row_shows_its_error_and_writes_nothing(
    visitor, transactional_db, tmp_path: Path
):
    user = ops_manager("ops", extra_permissions=CONSENT_PERMISSIONS)
    visitor.log_in(user.username, OPS_PASSWORD)
    page = visitor.page
    csv = tmp_path / "signups.csv"
    csv.write_text(
        "phone,channel,evidence\n"
        "+13125550101,sms,paper form at the fair\n"
        "+13125550102,pigeon,paper form at the fair\n"
    )

    visitor.goto("/admin/subscribers/subscriber/import/")
    page.set_input_files("input[name=import_file]", str(csv))
    visitor.follow(page.locator("input[type=submit][value='Check the file']"))
    assert "Some rows need fixing" in page.inner_text("#content")
    problems = page.locator("table.import-errors tbody tr")
    assert problems.count() == 1 and problems.first.locator("td").first.inner_text() == "2"
    assert "unknown channel" in problems.first.inner_text()
    assert page.locator("input[name=confirm]").count() == 0
    assert not Subscriber.objects.exists()
