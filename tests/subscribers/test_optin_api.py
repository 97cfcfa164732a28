"""POST /api/optin/ through HTTP requests."""

import json

import pytest
from django.urls import reverse

from subscribers.models import ConsentEvent, Subscriber

URL = reverse("subscribers:optin_api")
TOKEN = "s3cret-token-for-tests"


@pytest.fixture(autouse=True)
def webhook_token(settings):
    settings.WEBHOOK_TOKEN = TOKEN


def post(client, body, token: str | None = TOKEN, **headers):
    """A partner's request: with the token unless token is None."""
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    if token is not None:
        headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {token}")
    return client.post(URL, data, content_type="application/json", **headers)


SUBSCRIBE = {"phone": "(312) 555-0123", "consent": True, "action": "subscribe"}


@pytest.mark.django_db
def test_subscribe_is_double_opt_in_and_repeating_changes_nothing(client):
    first = post(
        client,
        {**SUBSCRIBE, "channel": "whatsapp", "source": "partner.example", "extra": "dropped"},
    )
    assert first.status_code == 200
    assert first.json() == {
        "status": "pending",
        "consent_status": "pending",
        "phone": "+13125550123",
    }
    sub = Subscriber.objects.get()
    assert (sub.consent_status, sub.consent_source, sub.channel) == ("pending", "api", "whatsapp")
    evidence = ConsentEvent.objects.get().evidence
    assert evidence["payload"] == {
        "consent": True,
        "action": "subscribe",
        "channel": "whatsapp",
        "source": "partner.example",
    }
    assert "ip" in evidence and "user_agent" in evidence

    again = post(client, {**SUBSCRIBE, "channel": "whatsapp"})
    assert again.status_code == 200
    assert again.json()["status"] == "unchanged"
    assert ConsentEvent.objects.count() == 1


@pytest.mark.django_db
def test_unsubscribe_is_immediate_and_idempotent(client, subscribe):
    subscribe("+13125550123")
    response = post(client, {"phone": "+13125550123", "action": "unsubscribe"})
    assert response.json()["status"] == "opted_out"
    sub = Subscriber.objects.get()
    assert (sub.consent_status, sub.consent_source) == ("opted_out", "api")
    assert (
        post(client, {"phone": "+13125550123", "action": "unsubscribe"}).json()["status"]
        == "unchanged"
    )
    assert ConsentEvent.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({**SUBSCRIBE, "phone": "12"}, "phone: "),
        ({**SUBSCRIBE, "phone": ""}, "phone: phone number is empty"),
        ({**SUBSCRIBE, "consent": False}, "consent must be true"),
        ({**SUBSCRIBE, "consent": "yes"}, "consent must be true"),
        ({k: v for k, v in SUBSCRIBE.items() if k != "consent"}, "consent must be true"),
        ({**SUBSCRIBE, "action": "maybe"}, "unknown action 'maybe'"),
        ({**SUBSCRIBE, "channel": "fax"}, "unknown channel 'fax'"),
        ("{not json", "malformed JSON"),
        ("[1, 2]", "malformed JSON: expected an object"),
        (json.dumps({**SUBSCRIBE, "padding": "x" * 11000}), "body is larger than 10 KB"),
    ],
)
def test_bad_requests_get_400_with_a_reason(client, body, reason):
    response = post(client, body)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert not Subscriber.objects.exists()


@pytest.mark.django_db
def test_token_is_required_when_set(client):
    assert post(client, SUBSCRIBE, token=None).status_code == 401
    assert post(client, SUBSCRIBE, token="wrong").status_code == 401
    assert post(client, SUBSCRIBE, token=None, HTTP_X_WEBHOOK_TOKEN=TOKEN[:-1]).status_code == 401
    assert not Subscriber.objects.exists()
    assert post(client, SUBSCRIBE).status_code == 200
    second = {**SUBSCRIBE, "phone": "+13125550124"}
    assert post(client, second, token=None, HTTP_X_WEBHOOK_TOKEN=TOKEN).status_code == 200
    assert Subscriber.objects.count() == 2


@pytest.mark.django_db
def test_token_compared_in_constant_time(client, monkeypatch):
    import hmac

    seen = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: seen.append((a, b)) or real(a, b))
    post(client, SUBSCRIBE, token="guess")
    assert seen == [(b"guess", TOKEN.encode())]


@pytest.mark.django_db
def test_post_only_and_no_csrf_needed(client):
    from django.test import Client

    assert client.get(URL).status_code == 405
    assert (
        client.put(URL, json.dumps(SUBSCRIBE), content_type="application/json").status_code == 405
    )
    assert post(Client(enforce_csrf_checks=True), SUBSCRIBE).status_code == 200
