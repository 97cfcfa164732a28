"""The SMS-pumping breaker as people see it: the sign-up pages and the operator's banner."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from messaging.models import Message
from subscribers.models import Subscriber


@pytest.mark.browser
def test_a_held_confirmation_shows_on_the_admin_home_with_what_to_do(ops_visitor, settings):
    settings.OPTIN_CONFIRMATIONS_PER_HOUR = 1
    page = ops_visitor.page
    for phone in ("(312) 555-0131", "(312) 555-0132"):
        ops_visitor.goto("/optin/")
        page.fill("input[name=phone]", phone)
        page.check("input[type=checkbox]")
        ops_visitor.follow(page.locator("button[type=submit]"))
        assert "Check your phone" in page.inner_text("h1")
        assert "text START" in page.inner_text("main")
    assert Subscriber.objects.filter(consent_status="pending").count() == 2
    assert Message.objects.get(kind="confirmation", status="held").phone == "+13125550132"

    ops_visitor.goto("/admin/")
    banner = page.locator(".ops-alerts", has_text="sign-up confirmation(s) are waiting")
    text = banner.inner_text()
    assert "cap of 1 an hour" in text and "1 sign-up confirmation(s) are waiting" in text
    # Since when, in the operations timezone, named.
    local = datetime.now(ZoneInfo(settings.DAILY_SEND_TIMEZONE))
    assert "SMS pumping" in text and f" {local:%Y}, " in text and local.tzname() in text
    ops_visitor.follow(banner.locator("a", has_text="Pending subscribers"))
    assert "consent_status__exact=pending" in page.url
