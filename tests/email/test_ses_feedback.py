"""SES bounce and complaint notifications, signed as SNS signs them, at /webhooks/ses/."""

import json
from typing import Any

import pytest
from django.test import Client

from messaging.models import DeliveryEvent
from subscribers import consent
from subscribers.models import ConsentEvent, Subscriber
from tests.messaging.webhooks.conftest import ACCOUNT, INBOUND_TOPIC_ARN, SnsSigner

pytestmark = pytest.mark.django_db
FEEDBACK_TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:smsbot-ses-feedback"
ADDRESS = "reader@example.net"


@pytest.fixture
def subscriber(settings: Any) -> Subscriber:
    settings.EMAIL_FROM = "daily@example.com"
    settings.EMAIL_POSTAL_ADDRESS = "1 Example Plaza, Chicago, IL 60601"
    phone = "+13125550150"
    consent.change(phone, "opted_in", "admin", {"t": 1}, channel="email")
    consent.change(phone, "pending", "web_form", {"t": 2}, email=ADDRESS)
    return consent.change(phone, "opted_in", "email_link", {"t": 3}, email="").subscriber


def ses_event(kind: str, **detail: Any) -> dict[str, Any]:
    """An SES event-publishing record ("Amazon SES event publishing" contents)."""
    event = {"eventType": kind, "mail": {"messageId": "0100-ses-mail-id", "source": "x"}}
    if kind == "Bounce":
        event["bounce"] = {
            "bounceType": detail.get("bounce_type", "Permanent"),
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": ADDRESS, "diagnosticCode": "550 5.1.1"}],
        }
    else:
        event["complaint"] = {
            "complainedRecipients": [{"emailAddress": ADDRESS}],
            "complaintFeedbackType": "abuse",
        }
    return event


def post_ses(client: Client, envelope: Any):
    body = envelope if isinstance(envelope, bytes | str) else json.dumps(envelope)
    return client.post("/webhooks/ses/", body, content_type="text/plain; charset=utf-8")


def test_a_signed_hard_bounce_marks_the_address_undeliverable_with_the_notification(
    client, sns_signer: SnsSigner, subscriber
):
    envelope = sns_signer.notification(FEEDBACK_TOPIC_ARN, ses_event("Bounce"))
    assert post_ses(client, envelope).status_code == 200
    assert post_ses(client, envelope).status_code == 200  # SNS's retry: once
    row = Subscriber.objects.get(pk=subscriber.pk)
    assert row.email_undeliverable and "hard bounce" in row.email_undeliverable_reason
    record = DeliveryEvent.objects.get(provider="ses")
    assert record.payload["bounce"]["bouncedRecipients"][0]["diagnosticCode"] == "550 5.1.1"
    assert f"#{record.pk}" in row.email_undeliverable_reason


def test_a_transient_bounce_changes_nothing(client, sns_signer: SnsSigner, subscriber):
    envelope = sns_signer.notification(
        FEEDBACK_TOPIC_ARN, ses_event("Bounce", bounce_type="Transient")
    )
    assert post_ses(client, envelope).status_code == 200
    assert not Subscriber.objects.get(pk=subscriber.pk).email_undeliverable


def test_a_signed_complaint_opts_the_address_out_with_the_notification_as_evidence(
    client, sns_signer: SnsSigner, subscriber
):
    envelope = sns_signer.notification(FEEDBACK_TOPIC_ARN, ses_event("Complaint"))
    assert post_ses(client, envelope).status_code == 200
    row = Subscriber.objects.get(pk=subscriber.pk)
    assert row.email_status == "opted_out" and row.consent_status == "opted_in"
    event = ConsentEvent.objects.filter(subscriber=row).first()
    assert (event.address_kind, event.source) == ("email", "provider")
    assert event.evidence["ses_notification"]["complaint"]["complaintFeedbackType"] == "abuse"
    # The owner's complaint holds against a form: the address is not made pending again.
    with pytest.raises(consent.OptedOutByEmail):
        consent.request_email_optin(row.phone, ADDRESS, "web_form", {"t": 4})


def test_the_inbound_topic_is_refused_here_and_the_feedback_topic_at_webhooks_sns(
    client, sns_signer: SnsSigner, subscriber
):
    wrong = sns_signer.notification(INBOUND_TOPIC_ARN, ses_event("Complaint"))
    assert post_ses(client, wrong).status_code == 403
    feedback = sns_signer.notification(FEEDBACK_TOPIC_ARN, ses_event("Complaint"))
    answer = client.post("/webhooks/sns/", json.dumps(feedback), content_type="text/plain")
    assert answer.status_code == 403
    assert Subscriber.objects.get(pk=subscriber.pk).email_status == "opted_in"


def test_what_is_kept_of_a_notification_names_the_address_only_by_its_hash(
    client, sns_signer: SnsSigner, subscriber
):
    """Events are append-only: a raw address in them would outlive the erasure."""
    from subscribers.erasure import erase

    bounce = ses_event("Bounce")
    bounce["mail"]["destination"] = [ADDRESS.upper()]
    bounce["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = f"smtp; 550 <{ADDRESS}> unknown"
    for envelope in (
        sns_signer.notification(FEEDBACK_TOPIC_ARN, bounce),
        sns_signer.notification(FEEDBACK_TOPIC_ARN, ses_event("Complaint")),
    ):
        assert post_ses(client, envelope).status_code == 200
    row = Subscriber.objects.get(pk=subscriber.pk)
    assert row.email_undeliverable and row.email_status == "opted_out"  # acted on the address
    erase(row, {"request": "deletion by e-mail"})

    payloads = DeliveryEvent.objects.values_list("payload")
    kept = json.dumps([*payloads, *ConsentEvent.objects.values_list("evidence")])
    assert ADDRESS not in kept.lower()
    label = f"[address {consent.address_hash(ADDRESS)[:16]}]"
    record = DeliveryEvent.objects.get(provider="ses", status="bounce")
    assert record.payload["bounce"]["bouncedRecipients"][0] == {
        "emailAddress": label,
        "diagnosticCode": f"smtp; 550 <{label}> unknown",
    }
    assert record.payload["mail"]["destination"] == [label]
