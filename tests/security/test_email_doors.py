"""Attacks on the e-mail doors: forged, cut, replayed and expired links; unsigned and
foreign SES notifications. Each is refused with a 4xx and changes nothing."""

import json
from typing import Any

import pytest
from django.core import signing
from django.test import Client

from subscribers import consent, email_links
from subscribers.models import ConsentEvent, Subscriber
from tests.messaging.webhooks.conftest import ACCOUNT, SnsSigner

pytestmark = pytest.mark.django_db
FEEDBACK_TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:smsbot-ses-feedback"
ADDRESS = "reader@example.net"


@pytest.fixture
def pending(settings: Any) -> Subscriber:
    settings.EMAIL_FROM = "daily@example.com"
    settings.EMAIL_POSTAL_ADDRESS = "1 Example Plaza, Chicago, IL 60601"
    consent.change("+13125550160", "opted_in", "admin", {"t": 1})
    return consent.change("+13125550160", "pending", "web_form", {"t": 2}, email=ADDRESS).subscriber


def latest_event(subscriber: Subscriber) -> ConsentEvent:
    return ConsentEvent.objects.filter(subscriber=subscriber, address_kind="email").first()


def test_forged_and_cut_tokens_are_refused(client: Client, probe, pending):
    good = email_links.confirm_token(pending, latest_event(pending))
    forged = [
        "x",
        good[:-3] + "abc",
        signing.dumps({"s": pending.pk, "e": latest_event(pending).pk}, salt="wrong"),
        signing.dumps({"s": pending.pk, "e": latest_event(pending).pk}, key="not-our-key"),
        # An unsubscribe token offered as a confirmation: another salt.
        email_links.unsubscribe_token(pending),
        "A" * 5000,
        "%00",
    ]
    for token in forged:
        probe.attack(client.post(f"/optin/email/{token}/"))
        probe.attack(client.get(f"/optin/email/{token}/"))
    for token in [*forged[:4], email_links.confirm_token(pending, latest_event(pending))]:
        probe.attack(client.post(f"/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"}))
    assert Subscriber.objects.get(pk=pending.pk).email_status == "pending"


def test_a_used_link_cannot_be_replayed(client: Client, probe, pending):
    token = email_links.confirm_token(pending, latest_event(pending))
    assert client.post(f"/optin/email/{token}/").status_code == 200
    consent.change(pending.phone, "opted_out", "email_link", {"t": 3}, email="")
    before = ConsentEvent.objects.count()
    probe.attack(client.post(f"/optin/email/{token}/"))  # would opt the address back in
    assert ConsentEvent.objects.count() == before
    assert Subscriber.objects.get(pk=pending.pk).email_status == "opted_out"


def test_an_expired_link_says_so_and_changes_nothing(client: Client, probe, pending, settings):
    token = email_links.confirm_token(pending, latest_event(pending))
    settings.EMAIL_CONFIRM_HOURS = 0
    answer = probe.attack(client.post(f"/optin/email/{token}/"))
    assert b"expired" in answer.content
    assert Subscriber.objects.get(pk=pending.pk).email_status == "pending"


def test_unsigned_forged_and_foreign_ses_notifications_are_refused(
    client: Client, probe, pending, sns_signer: SnsSigner
):
    complaint = {
        "eventType": "Complaint",
        "mail": {"messageId": "m"},
        "complaint": {"complainedRecipients": [{"emailAddress": ADDRESS}]},
    }
    signed = sns_signer.notification(FEEDBACK_TOPIC_ARN, complaint)
    unsigned = {k: v for k, v in signed.items() if k != "Signature"}
    tampered = {**signed, "Message": json.dumps({**complaint, "eventType": "Bounce"})}
    foreign = sns_signer.notification(
        "arn:aws:sns:us-east-1:999999999999:smsbot-ses-feedback", complaint
    )
    for envelope in (unsigned, tampered, foreign, {**signed, "SigningCertURL": "https://x/y.pem"}):
        probe.attack(client.post("/webhooks/ses/", json.dumps(envelope), content_type="text/plain"))
    for body in ("not json", "[]", "{" * 5000):
        probe.attack(client.post("/webhooks/ses/", body, content_type="text/plain"))
    assert Subscriber.objects.get(pk=pending.pk).email_status == "pending"
