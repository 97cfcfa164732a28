"""The public opt-in page, through HTTP requests."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from messaging.broadcasts import schedule
from messaging.models import Message
from smsbot.models import OutboxTask
from subscribers import delivery_window
from subscribers.consent import change
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


# --- a preferred time, when delivery follows each subscriber's clock -------------------


def deliver_at_local_time() -> None:
    schedule.update(hour=10, minute=0, timezone="America/Chicago", enabled=True, mode="local_time")


@pytest.mark.django_db
def test_with_one_moment_for_everyone_the_form_asks_no_time_and_ignores_one(client):
    assert b'name="preferred_time"' not in client.get(URL).content
    assert submit(client, preferred_time="07:30").status_code == 302
    assert Subscriber.objects.get().preferred_time is None


@pytest.mark.django_db
def test_with_local_time_delivery_a_sign_up_chooses_its_time(client):
    deliver_at_local_time()
    html = client.get(URL).content.decode()
    assert 'type="time" name="preferred_time"' in html
    assert "Preferred time for the message (optional)" in html
    assert submit(client, preferred_time="07:30").status_code == 302
    sub = Subscriber.objects.get()
    assert (sub.consent_status, sub.preferred_time) == ("pending", dt.time(7, 30))
    event = sub.events.get()
    assert (event.kind, event.after, event.source) == ("preferred_time", "07:30", "web_form")
    # Left empty: the schedule's time.
    assert submit(client, phone="+13125550124").status_code == 302
    assert Subscriber.objects.get(phone="+13125550124").preferred_time is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("22:30", "22:30 is inside the quiet hours (21:00-08:00): choose a time from 08:00"),
        ("25:99", "Please give a time as HH:MM, e.g. 07:30."),
        ("7pm", "Please give a time as HH:MM, e.g. 07:30."),
    ],
)
def test_a_time_that_cannot_be_used_is_explained_and_nothing_stored(
    client, settings, value, problem
):
    settings.QUIET_HOURS = "21:00-08:00"
    deliver_at_local_time()
    response = submit(client, preferred_time=value)
    assert response.status_code == 200
    assert problem in response.content.decode()
    assert not Subscriber.objects.exists() and not Message.objects.exists()


@pytest.mark.django_db
def test_a_confirmed_subscriber_keeps_their_time_whatever_the_form_says(client):
    deliver_at_local_time()
    sub = change("+13125550123", "opted_in", "sms_keyword", {"text": "JOIN"}).subscriber
    delivery_window.set_preferred_time(sub, dt.time(9, 0), "sms_keyword", {"text": "TIME 9"})
    assert submit(client, preferred_time="07:30").status_code == 302
    assert Subscriber.objects.get().preferred_time == dt.time(9, 0)
