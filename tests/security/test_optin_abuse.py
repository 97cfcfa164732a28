"""SMS pumping and consent tampering through /api/optin/ and /optin/.

Every confirmation the portal queues is a paid message to a number that has not
consented yet; these probes try to make it send many, and to opt out numbers
that are not the caller's.
"""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from messaging.models import Message
from smsbot import timezones
from subscribers.consent import change
from subscribers.models import ConsentEvent, Subscriber

ROOT = Path(__file__).resolve().parents[2]
API = reverse("subscribers:optin_api")
FORM = reverse("subscribers:optin")
TOKEN = "partner-token-for-tests-0123"
PHONE = "+13125550123"

pytestmark = pytest.mark.django_db


def numbers(count: int) -> list[str]:
    """Fictional numbers: +1 312 555 0100 to 0199."""
    return [f"+1312555{100 + n:04d}" for n in range(count)]


def api(client, body, *, ip="203.0.113.7", token=None):
    headers = {"REMOTE_ADDR": ip}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(API, json.dumps(body), content_type="application/json", **headers)


def subscribe(phone: str) -> dict:
    return {"phone": phone, "consent": True, "action": "subscribe"}


def unsubscribe(phone: str) -> dict:
    return {"phone": phone, "action": "unsubscribe"}


def form(client, phone, ip="203.0.113.7"):
    data = {"phone": phone, "channel": "sms", "consent": "on"}
    return client.post(FORM, data, REMOTE_ADDR=ip)


def sends(published) -> list[int]:
    """The messages whose sending was handed to the broker."""
    return [args[0] for name, args in published if name == "messaging.send_message"]


# --- the API is closed until the operator opens it -----------------------------------


def test_without_a_token_the_api_refuses_everything(client, settings, probe):
    settings.WEBHOOK_TOKEN = ""
    settings.OPTIN_API_PUBLIC = False
    change(PHONE, "opted_in", "sms_keyword", {"text": "JOIN"})
    for body in (subscribe("+13125550124"), unsubscribe(PHONE)):
        response = probe.attack(api(client, body))
        assert response.status_code == 401
        assert "closed" in response.json()["error"]
    assert Subscriber.objects.get().consent_status == "opted_in"
    assert Subscriber.objects.count() == 1 and not Message.objects.exists()


def run_check_deploy(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WEBHOOK_"))}
    clean.update(DJANGO_SETTINGS_MODULE="smsbot.settings", DJANGO_SECRET_KEY="k" * 60, **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
    )


def test_check_deploy_fails_while_the_api_has_no_token_and_is_not_public():
    closed = run_check_deploy()
    assert closed.returncode != 0
    assert "smsbot.E001" in closed.stderr and "WEBHOOK_TOKEN" in closed.stderr
    assert "smsbot.E001" not in run_check_deploy(WEBHOOK_TOKEN="t" * 32).stderr
    assert "smsbot.E001" not in run_check_deploy(OPTIN_API_PUBLIC="true").stderr


def test_a_public_api_still_cannot_unsubscribe_anyone(client, settings, probe):
    settings.WEBHOOK_TOKEN = TOKEN
    settings.OPTIN_API_PUBLIC = True
    change(PHONE, "opted_in", "sms_keyword", {"text": "JOIN"})
    refused = probe.attack(api(client, unsubscribe(PHONE)))
    assert refused.status_code == 401 and "token" in refused.json()["error"]
    assert probe.attack(api(client, unsubscribe(PHONE), token="guessed")).status_code == 401
    assert Subscriber.objects.get().consent_status == "opted_in"
    # Signing up stays open to anyone; the partner with the token can unsubscribe.
    assert api(client, subscribe("+13125550124")).json()["status"] == "pending"
    assert api(client, unsubscribe(PHONE), token=TOKEN).json()["status"] == "opted_out"


# --- limits per client, per number, and the hourly cap ------------------------------------


def test_a_flood_of_sign_ups_from_one_address_is_cut_off(client, settings, probe):
    settings.OPTIN_API_PUBLIC = True
    settings.OPTIN_RATE_LIMIT = "5/h"
    probe.must_refuse = 55
    for phone in numbers(60):
        response = probe.attack(api(client, subscribe(phone)))
        assert response.status_code in (200, 429)
    assert probe.statuses.count(200) == 5
    limited = api(client, subscribe("+13125550199"))
    assert "too many sign-ups from this address" in limited.json()["error"]
    assert int(limited["Retry-After"]) > 0
    assert Subscriber.objects.count() == 5
    # The limit is the client's, not everyone's.
    assert api(client, subscribe("+13125550198"), ip="198.51.100.9").status_code == 200


def test_the_form_and_the_api_share_the_per_address_budget(client, settings, probe):
    settings.OPTIN_API_PUBLIC = True
    settings.OPTIN_RATE_LIMIT = "4/h"
    first, second, third, fourth, fifth, sixth = numbers(6)
    assert form(client, first).status_code == 302
    assert api(client, subscribe(second)).status_code == 200
    assert form(client, third).status_code == 302
    assert api(client, subscribe(fourth)).status_code == 200
    assert probe.attack(form(client, fifth)).status_code == 429
    assert probe.attack(api(client, subscribe(sixth))).status_code == 429
    assert Subscriber.objects.count() == 4


def test_rotating_addresses_cannot_hammer_one_number(client, settings, probe):
    settings.OPTIN_API_PUBLIC = True
    settings.OPTIN_NUMBER_RATE_LIMIT = "3/h"
    probe.must_refuse = 7
    for n in range(10):
        ip = f"198.51.100.{n + 1}"
        call = api if n % 2 else form
        response = call(client, subscribe(PHONE) if call is api else PHONE, ip=ip)
        probe.attack(response, refused=response.status_code == 429)
    assert probe.statuses[:3] in ([302, 200, 302], [200, 302, 200])
    assert probe.statuses[3:] == [429] * 7
    assert ConsentEvent.objects.count() == 1


def test_a_number_gets_at_most_one_confirmation_a_day(
    client, settings, django_capture_on_commit_callbacks, published, probe
):
    # A partner's token, so that unsubscribing works: subscribe/unsubscribe cycles
    # used to send a new confirmation every time.
    settings.WEBHOOK_TOKEN = TOKEN
    settings.OPTIN_NUMBER_RATE_LIMIT = "100/h"
    for _ in range(5):
        # Each request's commit hooks run as it ends, as they do in a web process.
        with django_capture_on_commit_callbacks(execute=True):
            assert api(client, subscribe(PHONE), token=TOKEN).json()["status"] == "pending"
        assert api(client, unsubscribe(PHONE), token=TOKEN).json()["status"] == "opted_out"
    confirmations = Message.objects.filter(kind="confirmation", phone=PHONE)
    assert confirmations.filter(status="queued").count() == 1
    withheld = confirmations.filter(status="skipped")
    assert withheld.count() == 4
    assert "less than 24 hours ago" in withheld.first().error_message
    assert all(m.price_estimated == 0 for m in withheld)
    assert sends(published) == [confirmations.get(status="queued").id]
    for message in withheld:
        probe.record(200, refused=message.status == "skipped")


def test_the_hourly_cap_holds_confirmations_keeps_sign_ups_pending_and_warns(
    client, admin_client, settings, django_capture_on_commit_callbacks, published, caplog, probe
):
    settings.OPTIN_API_PUBLIC = True
    settings.OPTIN_CONFIRMATIONS_PER_HOUR = 3
    settings.OPS_TIMEZONE = "America/Chicago"
    caplog.set_level(logging.WARNING)
    with django_capture_on_commit_callbacks(execute=True):
        for n, phone in enumerate(numbers(10)):
            ip = f"198.51.100.{n + 1}"
            response = api(client, subscribe(phone), ip=ip) if n % 2 else form(client, phone, ip)
            assert response.status_code in (200, 302)
    assert Subscriber.objects.filter(consent_status="pending").count() == 10
    queued = Message.objects.filter(kind="confirmation", status="queued")
    assert sorted(sends(published)) == sorted(queued.values_list("id", flat=True))
    assert len(sends(published)) == 3
    held = Message.objects.filter(kind="confirmation", status="held")
    assert held.count() == 7
    assert held.first().error_message.startswith("confirmation cap")
    warnings = [r.getMessage() for r in caplog.records if " held" in r.getMessage()]
    assert len(warnings) == 7 and "+1******01" in warnings[0] and "5550" not in warnings[0]
    for message in held:
        probe.record(200, refused=message.status == "held")

    home = admin_client.get(reverse("admin:index")).content.decode()
    oldest = held.order_by("created_at").first().created_at
    assert "7 sign-up confirmation(s) are waiting" in home
    since = timezones.shown(oldest, ZoneInfo("America/Chicago"))
    assert f"the oldest since {since}" in home
    assert "withheld" not in home and "SMS pumping" in home
    assert reverse("admin:subscribers_subscriber_changelist") in home

    # The person can still answer: texting START opts the number in (see the thanks page).
    assert b"START" in client.get(reverse("subscribers:optin_thanks")).content


# --- a number that said STOP from the phone ---------------------------------------------


def test_a_number_that_texted_stop_is_not_texted_because_of_a_form(
    client, twilio, settings, django_capture_on_commit_callbacks, probe
):
    settings.WEBHOOK_TOKEN = TOKEN
    change(PHONE, "opted_in", "sms_keyword", {"text": "JOIN"})
    assert twilio.inbound("STOP", sender=PHONE).status_code == 200
    events = ConsentEvent.objects.count()
    messages = Message.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        # The form answers as for any number, so it tells no one that this one said STOP.
        page = probe.attack(form(client, PHONE), refused=True)
        assert page.status_code == 302
        answer = probe.attack(api(client, subscribe(PHONE), token=TOKEN))
    assert answer.status_code == 409
    assert "START" in answer.json()["error"]
    assert Subscriber.objects.get().consent_status == "opted_out"
    assert ConsentEvent.objects.count() == events and Message.objects.count() == messages

    # The phone itself can come back.
    assert twilio.inbound("START", sender=PHONE).status_code == 200
    assert Subscriber.objects.get().consent_status == "opted_in"


def test_an_operator_opt_out_can_be_undone_by_a_new_double_opt_in(
    client, django_capture_on_commit_callbacks
):
    change(PHONE, "opted_out", "admin", {"reason": "asked by e-mail"})
    with django_capture_on_commit_callbacks(execute=True):
        assert form(client, PHONE).status_code == 302
    assert Subscriber.objects.get().consent_status == "pending"
    assert Message.objects.filter(kind="confirmation", status="queued").count() == 1
