"""The consent proof of a number: joined by keyword, sent broadcasts, said STOP — all of
it in order, the same on the print page, in its JSON and from manage.py; an erased
number's proof says only what was erased and when."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messaging.models import Message
from messaging.outbound import dispatch
from smsbot import audit
from subscribers.erasure import erase
from subscribers.models import Subscriber
from tests.fakes.twilio_server import FakeTwilio
from tests.messaging.webhooks.conftest import AUTH_TOKEN, TwilioPoster
from tests.messaging.webhooks.test_attribution import ALICE, daily_broadcast
from tests.ops.factories import delivery_event, ops_manager

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops() -> Client:
    client = Client()
    client.force_login(ops_manager())
    return client


def joined_received_and_stopped(twilio) -> Subscriber:
    # Twilio answers START and STOP itself (the default): the portal records them.
    assert twilio.inbound("START", sender=ALICE, OptOutType="START").status_code == 200
    subscriber = Subscriber.objects.get(phone=ALICE)
    # Each step after the one before, in real time: the proof orders by it.
    for day, text in ((2, "First thought"), (1, "Second thought")):
        broadcast = daily_broadcast(timezone.localdate() - dt.timedelta(days=day), text, [], 0)
        message = Message.objects.create(
            direction="outbound", kind="broadcast", provider="twilio", phone=ALICE,
            subscriber=subscriber, broadcast=broadcast, body=text, status="delivered",
            sent_at=timezone.now(), provider_message_id=f"SM{day:032d}",
        )  # fmt: skip
        delivery_event(message, "delivered")
    audit.record(ops_manager("auditor"), subscriber, "Checked", detail="asked by phone")
    assert twilio.inbound("STOP", sender=ALICE, OptOutType="STOP").status_code == 200
    return subscriber


def test_the_proof_lists_keyword_join_broadcasts_stop_and_audit_in_order(twilio, ops):
    subscriber = joined_received_and_stopped(twilio)
    url = reverse("admin:messaging_message_consent_proof", args=[subscriber.pk])
    document = ops.get(url, {"format": "json"}).json()
    kinds = [e["type"] for e in document["entries"]]
    assert kinds == ["consent", "inbound", "broadcast", "broadcast", "audit", "consent", "inbound"]
    joined, join_message = document["entries"][0], document["entries"][1]
    assert joined["to_status"] == "opted_in" and joined["evidence"]["text"] == "START"
    assert join_message["provider_message_id"] == joined["evidence"]["message_id"]
    first = document["entries"][2]
    assert first["broadcast"]["name"].startswith("Daily")
    assert [r["status"] for r in first["delivery_reports"]] == ["delivered"]
    assert document["entries"][4]["operator"] == "auditor"
    stop, stop_message = document["entries"][5], document["entries"][6]
    assert stop["to_status"] == "opted_out" and stop["evidence"]["text"] == "STOP"
    assert stop_message["after_broadcast"]["name"] == document["entries"][3]["broadcast"]["name"]
    assert all(e["at"]["utc"].endswith("UTC") for e in document["entries"])

    html = ops.get(url).content.decode()
    assert "@media print" not in html and "consent_proof.css" in html
    rows = html.split('data-type="')[1:]
    assert [r.split('"')[0] for r in rows] == kinds
    for entry, row in zip(document["entries"], rows, strict=True):
        assert entry["at"]["local"] in row and entry["at"]["utc"] in row
        assert entry["what"].replace("“", "&ldquo;")[:20] in row or entry["what"][:20] in row

    out = StringIO()
    call_command("consent_proof", ALICE, "--json", stdout=out)
    from_command = json.loads(out.getvalue())
    assert from_command["entries"] == document["entries"]
    out = StringIO()
    call_command("consent_proof", ALICE, stdout=out)
    assert "[consent] Opted out by SMS keyword STOP" in out.getvalue()

    # The subscriber page links the proof and names the broadcast before the STOP.
    page = ops.get(reverse("admin:subscribers_subscriber_change", args=[subscriber.pk]))
    text = page.content.decode()
    assert url in text
    broadcast_url = reverse(
        "admin:messaging_broadcast_change", args=[stop_message["after_broadcast"]["id"]]
    )
    assert f'after the broadcast <a href="{broadcast_url}">' in text


def test_an_erased_numbers_proof_says_what_was_erased_and_when_only(twilio, ops):
    subscriber = joined_received_and_stopped(twilio)
    erase(subscriber, {"admin_user": "ops", "reason": "deletion request"})
    url = reverse("admin:messaging_message_consent_proof", args=[subscriber.pk])
    document = ops.get(url, {"format": "json"}).json()
    assert set(document) == {"generated_at", "timezone", "subscriber_id", "erased"}
    assert "erased" in document["erased"]["what"]
    html = ops.get(url).content.decode()
    assert "proof-erased" in html and ALICE not in html and "thought" not in html
    # Whoever presents the number gets the same: found by the events' hash.
    out = StringIO()
    call_command("consent_proof", ALICE, "--json", stdout=out)
    assert json.loads(out.getvalue())["erased"] == document["erased"]


def test_the_command_refuses_what_is_no_subscriber():
    with pytest.raises(CommandError, match="not a phone number"):
        call_command("consent_proof", "not-a-number")
    with pytest.raises(CommandError, match="no subscriber"):
        call_command("consent_proof", "+13125550199")


def test_only_roles_that_read_consent_open_it(client, django_user_model):
    subscriber = Subscriber.objects.create(phone=ALICE)
    nobody = django_user_model.objects.create_user("staff", is_staff=True)
    client.force_login(nobody)
    url = reverse("admin:messaging_message_consent_proof", args=[subscriber.pk])
    assert client.get(url).status_code == 403
    assert client.get(url, {"format": "json"}).status_code == 403


def test_a_web_form_join_its_confirmation_broadcasts_and_stop_are_all_in_the_proof(
    settings, ops, django_capture_on_commit_callbacks
):
    """Joined on the web form (its time, the sender's address, the consent wording shown),
    sent the double opt-in confirmation (through the fake Twilio) with its signed delivery
    report, confirmed with YES, received two broadcasts and said STOP: the print page
    lists all of it in the JSON's order, each row with the JSON's times and words."""
    settings.OPTIN_CONSENT_TEXT = "I agree to one daily thought by SMS. Reply STOP to cancel."
    settings.SMS_PROVIDER = "twilio"
    phone = "+13125550123"
    with FakeTwilio(auth_token=AUTH_TOKEN) as server:
        for name, value in server.settings().items():
            setattr(settings, name, value)
        settings.TWILIO_SMS_FROM, settings.TWILIO_MESSAGING_SERVICE_SID = "+13125550100", ""
        settings.TWILIO_VALIDATE_SIGNATURES = True
        form = Client()
        with django_capture_on_commit_callbacks(execute=True):
            joined = form.post(
                reverse("subscribers:optin"),
                {"phone": "(312) 555-0123", "channel": "sms", "consent": "on"},
                HTTP_USER_AGENT="Mozilla/5.0 (fictional phone)", REMOTE_ADDR="192.0.2.10",
            )  # fmt: skip
        assert joined.status_code == 302
        confirmation = Message.objects.get(kind="confirmation", phone=phone)
        assert dispatch.send(confirmation.pk).status == "sent"
        confirmation.refresh_from_db()
        twilio = TwilioPoster(Client(), settings.PUBLIC_BASE_URL)
        assert twilio.status(confirmation.provider_message_id, "delivered").status_code == 204
        assert twilio.inbound("YES", sender=phone).status_code == 200
    subscriber = Subscriber.objects.get(phone=phone)
    assert subscriber.consent_status == "opted_in"
    for day, text in ((2, "First thought"), (1, "Second thought")):
        broadcast = daily_broadcast(timezone.localdate() - dt.timedelta(days=day), text, [], 0)
        sent = Message.objects.create(
            direction="outbound", kind="broadcast", provider="twilio", phone=phone,
            subscriber=subscriber, broadcast=broadcast, body=text, status="sent",
            sent_at=timezone.now(), provider_message_id=f"SM{day:032d}",
        )  # fmt: skip
        twilio.status(sent.provider_message_id, "delivered")
    assert twilio.inbound("STOP", sender=phone, OptOutType="STOP").status_code == 200

    url = reverse("admin:messaging_message_consent_proof", args=[subscriber.pk])
    document = ops.get(url, {"format": "json"}).json()
    entries = document["entries"]
    kinds = [e["type"] for e in entries]
    assert kinds == ["consent", "confirmation", "consent", "inbound", "broadcast", "broadcast",
                     "consent", "inbound"]  # fmt: skip
    web = entries[0]
    assert (web["to_status"], web["source"]) == ("pending", "web_form")
    assert web["evidence"]["ip"] == "192.0.2.10"
    assert web["evidence"]["consent_text"] == settings.OPTIN_CONSENT_TEXT
    assert web["at"]["utc"].endswith("UTC") and web["at"]["local"]
    sent_confirmation = entries[1]
    assert sent_confirmation["text"].startswith("Reply YES to confirm")
    assert [r["status"] for r in sent_confirmation["delivery_reports"]] == ["delivered"]
    confirmed, yes = entries[2], entries[3]
    assert confirmed["to_status"] == "opted_in" and yes["text"] == "YES"
    names = [e["broadcast"]["name"] for e in entries[4:6]]
    assert names[0] != names[1] and all(n.startswith("Daily") for n in names)
    assert all(e["delivery_reports"][0]["status"] == "delivered" for e in entries[4:6])
    stop, stop_message = entries[6], entries[7]
    assert stop["to_status"] == "opted_out"
    assert stop_message["after_broadcast"]["name"] == entries[5]["broadcast"]["name"]
    assert [e["at"]["iso"] for e in entries] == sorted(e["at"]["iso"] for e in entries)

    html = ops.get(url).content.decode()
    rows = html.split('data-type="')[1:]
    assert [r.split('"')[0] for r in rows] == kinds
    for entry, row in zip(entries, rows, strict=True):
        assert entry["at"]["local"] in row and entry["at"]["utc"] in row
        assert entry["what"].replace("“", "&ldquo;")[:20] in row or entry["what"][:20] in row
    assert "192.0.2.10" in rows[0] and settings.OPTIN_CONSENT_TEXT in rows[0]
