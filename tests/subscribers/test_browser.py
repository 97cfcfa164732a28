"""The opt-in page and the admin's consent action in a real browser (Chromium)."""

import pytest
from django.contrib.auth.models import User
from django.db import connections

from subscribers.models import ConsentEvent, Subscriber

PHONE_VIEWPORT = {"width": 360, "height": 740}


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the
    # test makes between browser steps are ordinary synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        yield browser
        browser.close()
        # ORM calls made while Playwright's loop runs get their own connection
        # (Django keeps connections per context): close it before the database goes.
        connections.close_all()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_optin_on_a_phone_without_javascript(browser, live_server, artifacts_dir, settings):
    settings.TWILIO_WHATSAPP_NUMBER = "+13125550199"
    context = browser.new_context(viewport=PHONE_VIEWPORT, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/optin/")
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    assert not page.is_checked("input[type=checkbox]")
    page.fill("input[name=phone]", "312 555 01")
    page.click("button[type=submit]")
    assert "Please check the number" in page.inner_text("#phone-error")
    assert "Please tick the box" in page.inner_text("#consent-error")
    page.screenshot(path=str(artifacts_dir / "optin-errors.png"), full_page=True)

    page.fill("input[name=phone]", "(312) 555-0123")
    page.check("input[value=whatsapp]")
    page.check("input[type=checkbox]")
    page.click("button[type=submit]")
    assert "Check your phone" in page.inner_text("h1")
    page.screenshot(path=str(artifacts_dir / "optin-thanks.png"), full_page=True)
    sub = Subscriber.objects.get()
    assert (sub.phone, sub.channel, sub.consent_status) == ("+13125550123", "whatsapp", "pending")
    assert "HeadlessChrome" in ConsentEvent.objects.get().evidence["user_agent"]
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_opt_out_with_a_reason(browser, live_server, artifacts_dir, subscribe):
    subscribe("+13125550123")
    User.objects.create_superuser("ops", password="pw-for-browser-test")
    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/subscribers/subscriber/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "pw-for-browser-test")
    page.click("input[type=submit]")
    page.fill("#searchbar", "312.555.0123")
    page.press("#searchbar", "Enter")
    page.check("input.action-select")
    page.select_option("select[name=action]", "opt_out")
    page.click("button[name=index]")
    page.fill("textarea[name=reason]", "asked by phone, ticket 42")
    page.screenshot(path=str(artifacts_dir / "admin-opt-out-form.png"), full_page=True)
    page.click("input[type=submit][value='Opt out']")
    assert "Opt out: 1 of 1 changed." in page.inner_text(".messagelist")
    page.screenshot(path=str(artifacts_dir / "admin-opt-out-done.png"), full_page=True)
    event = ConsentEvent.objects.filter(to_status="opted_out").get()
    assert event.evidence["reason"] == "asked by phone, ticket 42"
    assert event.evidence["admin_user"] == "ops"
