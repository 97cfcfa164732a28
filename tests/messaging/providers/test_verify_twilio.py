"""manage.py verify_twilio and refresh_twilio_prices against the local Twilio server."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from messaging.models import CountryPrice, DailyContent
from messaging.reports import alerts
from subscribers import consent

pytestmark = pytest.mark.django_db
SERVICE = "MG" + "1" * 32
TEMPLATE = "HX" + "2" * 32
PUBLIC = "https://portal.example.test"


@pytest.fixture
def account(twilio_server, settings):  # type: ignore[no-untyped-def]
    """An account that passes every check: a Messaging Service with a verified campaign,
    webhooks at the portal, an approved Utility template for the coming days."""
    cache.clear()
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.TWILIO_MESSAGING_SERVICE_SID = SERVICE
    settings.OPTIN_ALLOWED_COUNTRIES = ["US", "CA"]
    seeded = twilio_server.account
    seeded.services[SERVICE] = {"inbound_request_url": f"{PUBLIC}/webhooks/twilio/inbound/"}
    seeded.campaigns[SERVICE] = "VERIFIED"
    seeded.templates[TEMPLATE] = ("approved", "UTILITY")
    DailyContent.objects.create(
        date=timezone.localdate() + timedelta(days=1),
        text="Tomorrow",
        whatsapp_content_sid=TEMPLATE,
    )
    yield seeded
    cache.clear()


def run(capsys) -> tuple[str, str | None]:  # type: ignore[no-untyped-def]
    try:
        call_command("verify_twilio")
    except CommandError as exc:
        return capsys.readouterr().out, str(exc)
    return capsys.readouterr().out, None


def test_every_check_passes_on_a_ready_account(account, capsys):
    out, failure = run(capsys)
    assert failure is None, out
    lines = out.splitlines()
    assert [line[0] for line in lines[:-1]] == ["✓"] * 5
    assert "A2P 10DLC campaign" in out and f"WhatsApp template {TEMPLATE}" in out
    assert "All 5 Twilio checks passed." in out
    assert not [a for a in alerts.active() if "Twilio account checks" in a.text]


@pytest.mark.parametrize("status", ["pending", "rejected", "received"])
def test_an_unapproved_template_fails_with_what_to_do(account, capsys, status):
    account.templates[TEMPLATE] = (status, "UTILITY")
    out, failure = run(capsys)
    assert failure == "1 of 5 Twilio check(s) failed"
    [line] = [line for line in out.splitlines() if line.startswith("✗")]
    assert f"WhatsApp approval is {status}" in line and "submit the template" in line
    [banner] = [a for a in alerts.active() if "Twilio account checks" in a.text]
    assert f"WhatsApp approval is {status}" in banner.text


def test_a_marketing_template_fails_while_us_whatsapp_subscribers_exist(account, capsys):
    account.templates[TEMPLATE] = ("approved", "MARKETING")
    assert run(capsys)[1] is None  # nobody on WhatsApp in the US yet
    consent.change("+13125550150", "opted_in", "admin", {"test": True}, channel="whatsapp")
    out, failure = run(capsys)
    assert failure is not None
    assert "Meta delivers no marketing template to US numbers (63049)" in out
    assert "resubmit it as Utility" in out and "24-hour window" in out


def test_registration_sender_and_webhooks_each_say_what_to_do(account, capsys, settings):
    account.campaigns[SERVICE] = "PENDING"
    account.services[SERVICE]["inbound_request_url"] = "https://old.example.test/sms"
    out, failure = run(capsys)
    assert failure == "2 of 5 Twilio check(s) failed"
    assert "✗ A2P 10DLC campaign: Messaging Service" in out and "30034" in out
    assert "✗ webhook URLs" in out and f"{PUBLIC}/webhooks/twilio/inbound/" in out

    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "9" * 32
    out, _ = run(capsys)
    assert "✗ sender: Messaging Service" in out and "does not exist" in out


def test_a_toll_free_sender_needs_its_verification(account, capsys, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_SMS_FROM = "+18005550100"
    pn = account.add_number("+18005550100", sms_url=f"{PUBLIC}/webhooks/twilio/inbound/")
    account.tollfree[pn] = "PENDING_REVIEW"
    out, failure = run(capsys)
    assert "✗ toll-free verification: PENDING_REVIEW" in out and "30032" in out
    account.tollfree[pn] = "TWILIO_APPROVED"
    out, failure = run(capsys)
    assert failure is None and "✓ toll-free verification" in out


def test_wrong_credentials_fail_the_first_check(account, capsys, settings):
    settings.TWILIO_AUTH_TOKEN = "wrong"
    out, failure = run(capsys)
    assert out.startswith("✗ credentials: Twilio answered 401 (20003)")
    assert failure == "1 of 1 Twilio check(s) failed"  # nothing else can be read


def test_a_trial_account_fails_its_own_line_and_the_other_checks_still_run(account, capsys):
    # A new account is often a trial: its operator sees every other check while upgrading.
    account.type = "Trial"
    out, failure = run(capsys)
    assert failure == "1 of 6 Twilio check(s) failed"
    assert out.startswith("✓ credentials: account AC")
    [line] = [line for line in out.splitlines() if line.startswith("✗")]
    assert line.startswith("✗ account type: a trial account") and "21608" in line
    assert "upgrade the account" in line
    assert "✓ A2P 10DLC campaign" in out and f"✓ WhatsApp template {TEMPLATE}" in out
    [banner] = [a for a in alerts.active() if "Twilio account checks" in a.text]
    assert "a trial account" in banner.text


def test_refresh_twilio_prices_writes_the_estimates_of_the_allowed_countries(
    twilio_server, settings, capsys
):
    settings.OPTIN_ALLOWED_COUNTRIES = ["US", "CA"]
    twilio_server.account.sms_prices.update({"US": "0.0091", "CA": "0.0079"})
    call_command("refresh_twilio_prices")
    prices = dict(
        CountryPrice.objects.filter(provider="twilio", channel="sms").values_list(
            "country", "price_usd"
        )
    )
    assert prices["US"] == Decimal("0.0091") and prices["CA"] == Decimal("0.0079")
    assert "✓ US: now 0.0091 USD a segment (was 0.00830)" in capsys.readouterr().out
    paths = [r.path for r in twilio_server.requests]
    assert paths == ["/v1/Messaging/Countries/US", "/v1/Messaging/Countries/CA"]

    with pytest.raises(CommandError, match="1 country price"):
        call_command("refresh_twilio_prices", "--country", "GB")
