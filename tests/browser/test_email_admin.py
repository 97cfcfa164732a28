"""An Operations Manager adds a subscriber's e-mail address in Chromium at 1440×900:
the button on the subscriber's page, the form, the pending state, the confirmation
e-mail its owner clicks (read from moto's SES), the list's column and filters; then
stops e-mail to it when its owner asks by phone."""

import pytest

from subscribers.consent import change
from subscribers.models import Subscriber
from tests.browser.test_subscriber_pages import CHANGE, fits_the_window, wide
from tests.email import conftest as email
from tests.email.conftest import link, sent_mail
from tests.messaging.pipeline.conftest import wait_for

pytestmark = pytest.mark.browser
email_on = email.email_on  # moto's SES with the sender's identity

PHONE = "+13125550123"
ADDRESS = "reader@example.org"


def test_add_an_address_it_stays_pending_until_its_owner_clicks(
    visitor, email_on, celery_worker, client
):
    subscriber = change(PHONE, "opted_in", "web_form", {"form": "signup"}).subscriber
    change("+13125550124", "opted_in", "web_form", {"form": "signup"})
    wide(visitor, *CHANGE)
    page = visitor.page
    visitor.goto(f"/admin/subscribers/subscriber/{subscriber.pk}/change/")
    email_block = page.locator(".subscriber-email")
    assert "no address" in email_block.inner_text()

    add = page.locator("details#email-add")
    add.locator("summary").click()
    add.locator("input[type=email], input[name$=email]").fill(ADDRESS)
    add.locator("textarea").fill("asked at the front desk, ticket 7")
    visitor.screenshot()
    visitor.follow(add.locator("input[type=submit]"))
    assert ADDRESS in page.locator(".subscriber-email .email-address").inner_text()
    assert page.locator(".subscriber-email .consent-badge").inner_text() == "Pending confirmation"
    # The number's consent is untouched by the address's.
    assert page.locator(".consent-state .consent-badge").first.inner_text() == "Opted in"
    visitor.screenshot()

    wait_for(lambda: sent_mail(email_on, ADDRESS), what="the confirmation e-mail")
    (mail,) = sent_mail(email_on, ADDRESS)
    client.post(link(mail, "/optin/email/"))
    assert Subscriber.objects.get(pk=subscriber.pk).email_status == "opted_in"

    visitor.goto("/admin/subscribers/subscriber/")
    fits_the_window(visitor)
    assert ADDRESS in page.locator("#result_list").inner_text()
    by_email = page.locator('#changelist-filter details[data-filter-title="e-mail consent"]')
    visitor.follow(by_email.get_by_role("link", name="Opted in", exact=True))
    assert page.locator("#result_list tbody tr").count() == 1
    visitor.screenshot()

    # The owner phones to say: no more e-mail. The number keeps its consent.
    visitor.goto(f"/admin/subscribers/subscriber/{subscriber.pk}/change/")
    stop = page.locator("details#email-stop")
    stop.locator("summary").click()
    stop.locator("textarea").fill("asked by phone, ticket 8")
    visitor.follow(stop.locator("input[type=submit]"))
    assert page.locator(".subscriber-email .consent-badge").inner_text() == "Opted out"
    assert page.locator(".consent-state .consent-badge").first.inner_text() == "Opted in"
    assert not page.locator("details#email-stop").count()
    visitor.screenshot()
