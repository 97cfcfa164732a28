"""The public opt-in page, through HTTP requests."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from messaging.models import Message
from smsbot.models import OutboxTask
from subscribers.models import ConsentEvent, Subscriber

URL = reverse("subscribers:optin")
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"


def submit(client: Client, **data: str):
    payload = {"phone": "(312) 555-0123", "channel": "sms", "consent": "on", **data}
    return client.post(URL, payload, HTTP_USER_AGENT=UA, REMOTE_ADDR="192.0.2.10")


@pytest.mark.django_db
def test_page_is_mobile_readable_with_an_unticked_consent_box(client, settings):
    settings.TWILIO_WHATSAPP_NUMBER = "+13125550199"
    settings.JOIN_KEYWORD = "MITZVAH"
    settings.OPTIN_CONSENT_TEXT = "I agree to one daily message. Reply STOP to cancel."
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "I agree to one daily message. Reply STOP to cancel." in html
    checkbox = html[html.index('type="checkbox"') : html.index(">", html.index('type="checkbox"'))]
    assert "checked" not in checkbox
    assert 'href="https://wa.me/13125550199?text=JOIN%20MITZVAH"' in html
    assert "csrfmiddlewaretoken" in html
    assert "<script" not in html and "https://cdn" not in html


@pytest.mark.django_db
def test_no_whatsapp_link_without_a_whatsapp_number(client, settings):
    settings.TWILIO_WHATSAPP_NUMBER = ""
    assert b"wa.me" not in client.get(URL).content


@pytest.mark.django_db
def test_submission_makes_the_number_pending_with_evidence_and_queues_a_confirmation(
    client, settings, django_capture_on_commit_callbacks
):
    settings.OPTIN_CONSENT_TEXT = "I agree to one daily message."
    settings.SMS_PROVIDER = "twilio"
    with django_capture_on_commit_callbacks() as after_commit:
        response = submit(client)
    assert response.status_code == 302 and response["Location"] == reverse(
        "subscribers:optin_thanks"
    )
    assert b"Reply <strong>YES</strong>" in client.get(response["Location"]).content

    sub = Subscriber.objects.get()
    assert (sub.phone, sub.consent_status, sub.consent_source) == (
        "+13125550123",
        "pending",
        "web_form",
    )
    evidence = ConsentEvent.objects.get().evidence
    assert evidence["consent_text"] == "I agree to one daily message."
    assert evidence["ip"] == "192.0.2.10" and evidence["user_agent"] == UA
    assert evidence["form"] == {"channel": "sms", "consent": "on"}
    assert "555" not in str(evidence)  # the number is not copied into the evidence

    # After the commit, the confirmation is recorded and its sending queued.
    with django_capture_on_commit_callbacks() as publish:
        for callback in after_commit:
            callback()
    message = Message.objects.get()
    assert (message.direction, message.kind, message.status) == (
        "outbound",
        "confirmation",
        "queued",
    )
    assert (message.phone, message.channel, message.provider) == ("+13125550123", "sms", "twilio")
    assert message.body.startswith("Reply YES to confirm")
    assert message.segments == 1 and message.price_estimated == Decimal("0.0083")
    task = OutboxTask.objects.get()
    assert (task.task_name, task.args, task.queue) == (
        "messaging.send_message",
        [message.id],
        "replies",
    )
    assert len(publish) == 1


@pytest.mark.django_db
def test_already_subscribed_number_stays_opted_in_and_gets_no_confirmation(
    client, subscribe, django_capture_on_commit_callbacks
):
    subscribe("+13125550123")
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(client)
    assert response.status_code == 302
    assert Subscriber.objects.get().consent_status == "opted_in"
    assert ConsentEvent.objects.count() == 1
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_errors_are_shown_next_to_the_field_and_nothing_is_stored(client):
    response = client.post(URL, {"phone": "12", "channel": "sms"})
    assert response.status_code == 200
    html = response.content.decode()
    phone_error = html.index('id="phone-error"')
    assert html.index('name="phone"') < phone_error < html.index("<fieldset")
    assert "Please check the number" in html
    assert "Please tick the box to agree" in html
    assert 'value="12"' in html  # what was typed is kept
    empty = client.post(URL, {}).content.decode()
    assert 'id="phone-error"' in empty and 'id="consent-error"' in empty
    assert not Subscriber.objects.exists()


@pytest.mark.django_db
def test_the_form_is_csrf_protected():
    client = Client(enforce_csrf_checks=True)
    assert submit(client).status_code == 403
    client.get(URL)
    token = client.cookies["csrftoken"].value
    response = client.post(
        URL,
        {"phone": "+13125550123", "channel": "sms", "consent": "on", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_submissions_are_rate_limited_per_ip(client, settings):
    settings.OPTIN_RATE_LIMIT = "3/h"
    for n in range(3):
        assert submit(client, phone=f"+1312555010{n}").status_code == 302
    blocked = submit(client, phone="+13125550109")
    assert blocked.status_code == 429
    assert b"Too many attempts" in blocked.content and blocked["Retry-After"]
    assert not Subscriber.objects.filter(phone="+13125550109").exists()
    other_ip = client.post(
        URL,
        {"phone": "+13125550109", "channel": "sms", "consent": "on"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert other_ip.status_code == 302
    assert client.get(URL).status_code == 200  # reading the page is never limited
