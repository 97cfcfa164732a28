"""An e-mail address through /api/optin/ and the form: validated, limited like a number,
and each address given gets its own confirmation — once, and only on what was given."""

import json

import pytest
from django.urls import reverse

from messaging.models import Message
from subscribers.models import Subscriber
from tests.email.conftest import SENDER, link, sent_mail
from tests.messaging.pipeline.conftest import wait_for

URL = reverse("subscribers:optin_api")
TOKEN = "s3cret-token-for-tests"
PHONE = "+13125550180"
ADDRESS = "signup@example.org"


def post(client, **body):
    data = {"phone": PHONE, "consent": True, "action": "subscribe", **body}
    return client.post(
        URL, json.dumps(data), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"
    )


@pytest.fixture
def api(settings):
    settings.WEBHOOK_TOKEN = TOKEN
    settings.EMAIL_FROM = SENDER


def confirmations() -> list[tuple[str, str]]:
    return sorted(Message.objects.filter(kind="confirmation").values_list("channel", "provider"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"email": "not-an-address"}, "email: 'not-an-address' is not an e-mail address"),
        ({"email": "a" * 250 + "@example.org"}, "email: longer than 254 characters"),
        ({"email": ["a@example.org"]}, "email: expected a string"),
        ({"channel": "email"}, "channel email needs an email address"),
        ({"action": "unsubscribe", "email": ADDRESS}, "email is taken only to subscribe"),
    ],
)
def test_a_bad_address_is_a_400_with_its_reason_and_nothing_stored(client, api, body, reason):
    answer = post(client, **body)
    assert answer.status_code == 400 and answer.json()["error"].startswith(reason)
    assert not Subscriber.objects.exists()


@pytest.mark.django_db
def test_no_address_is_taken_while_email_is_off(client, api, settings):
    settings.EMAIL_FROM = ""
    answer = post(client, email=ADDRESS)
    assert answer.status_code == 400
    assert answer.json()["error"] == "email: this portal does not send e-mail"
    answer = post(client, channel="email")
    assert answer.json()["error"] == "unknown channel 'email': use sms or whatsapp"


@pytest.mark.django_db
def test_an_address_is_limited_like_a_number(client, api, settings):
    settings.OPTIN_NUMBER_RATE_LIMIT = "2/h"
    assert post(client, phone="+13125550190", email=ADDRESS).status_code == 200
    # Refused (another subscriber's address), and counted all the same.
    assert post(client, phone="+13125550191", email=ADDRESS).status_code == 409
    # A third number cannot flood the same inbox; case does not make it another address.
    answer = post(client, phone="+13125550192", email=ADDRESS.upper())
    assert answer.status_code == 429 and "this e-mail address" in answer.json()["error"]
    assert int(answer["Retry-After"]) > 0
    assert not Subscriber.objects.filter(phone="+13125550192").exists()


@pytest.mark.django_db
def test_another_subscribers_address_refuses_the_whole_request(client, api):
    assert post(client, phone="+13125550181", email=ADDRESS).status_code == 200
    answer = post(client, email=ADDRESS)
    assert answer.status_code == 409 and "another subscriber" in answer.json()["error"]
    # One transaction: the number was not made pending either.
    assert not Subscriber.objects.filter(phone=PHONE).exists()


@pytest.mark.django_db(transaction=True)
def test_an_api_sign_up_on_email_gets_one_sms_for_the_number_and_one_link_for_the_address(
    email_on, celery_worker, client, settings
):
    settings.WEBHOOK_TOKEN = TOKEN
    answer = post(client, channel="email", email="SignUp@Example.ORG", source="partner.example")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "pending",
        "consent_status": "pending",
        "phone": PHONE,
        "email_status": "pending",
    }
    subscriber = Subscriber.objects.get()
    assert (subscriber.channel, subscriber.email) == ("email", "SignUp@example.org")
    # The address is kept only as its hash in the evidence, like the number.
    for event in subscriber.consent_events.all():
        assert "example.org" not in json.dumps(event.evidence).lower()

    wait_for(lambda: sent_mail(email_on, "SignUp@example.org"), what="the confirmation e-mail")
    wait_for(lambda: len(confirmations()) == 2, what="both confirmations")
    # The number's confirmation by SMS (not by e-mail), the address's by e-mail.
    assert confirmations() == [("email", "ses"), ("sms", "console")]

    # The same sign-up again: nothing changes, nothing is sent twice.
    again = post(client, channel="email", email="signup@example.org")
    assert again.json()["status"] == again.json()["email_status"] == "unchanged"
    client.post(link(sent_mail(email_on)[0], "/optin/email/"))
    post(client, channel="email", email="signup@example.org")
    assert Subscriber.objects.get().email_status == "opted_in"
    assert len(sent_mail(email_on)) == 1 and len(confirmations()) == 2


@pytest.mark.django_db(transaction=True)
def test_a_sign_up_without_an_address_gets_no_email(email_on, celery_worker, client):
    answer = client.post(
        "/optin/", {"phone": PHONE, "channel": "whatsapp", "consent": "on"}, HTTP_USER_AGENT="t"
    )
    assert answer.status_code == 302
    wait_for(lambda: confirmations(), what="the number's confirmation")
    assert confirmations() == [("whatsapp", "console")]
    assert sent_mail(email_on) == []
    # With an address, on WhatsApp: the number's confirmation stays on WhatsApp.
    client.post(
        "/optin/",
        {"phone": "+13125550182", "channel": "whatsapp", "email": ADDRESS, "consent": "on"},
    )
    wait_for(lambda: sent_mail(email_on, ADDRESS), what="the confirmation e-mail")
    sent = Message.objects.filter(kind="confirmation", phone="+13125550182")
    assert sorted(sent.values_list("channel", flat=True)) == ["email", "whatsapp"]
    assert len(sent_mail(email_on)) == 1
