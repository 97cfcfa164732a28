"""Input no database can store is a 400 with a reason, never a 500, and stores nothing;
a database error never puts the request (a number) into the log."""

import json
import logging

import pytest
from django.db import DataError, connection
from django.urls import reverse

from subscribers.models import ConsentEvent, Subscriber

API = reverse("subscribers:optin_api")
FORM = reverse("subscribers:optin")
TOKEN = "partner-token-for-tests-0123"
GOOD = '{"phone": "+13125550123", "consent": true, "action": "subscribe"'

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def partner(settings):
    settings.WEBHOOK_TOKEN = TOKEN
    settings.OPTIN_RATE_LIMIT = "1000/h"
    settings.OPTIN_NUMBER_RATE_LIMIT = "1000/h"


def post_api(client, body: str | bytes):
    return client.post(
        API, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"
    )


# (raw body, words of the reason)
BODIES = [
    (GOOD + ', "note": "a\\u0000b"}', "NUL"),
    (GOOD + ', "note": "\\ud800"}', "unpaired surrogate"),
    (GOOD + ', "note": "\\udfff tail"}', "unpaired surrogate"),
    (GOOD + ', "\\u0000": 1}', "NUL"),
    (GOOD + ', "\\ud800key": 1}', "unpaired surrogate"),
    (GOOD + ', "score": NaN}', "NaN is not a JSON number"),
    (GOOD + ', "score": Infinity}', "Infinity is not a JSON number"),
    (GOOD + ', "score": -Infinity}', "-Infinity is not a JSON number"),
    (GOOD + ', "score": 1e999}', "too large a number"),
    (GOOD + ', "score": ' + "9" * 5000 + "}", "malformed JSON"),
    (GOOD + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}", "nested more than"),
    ("[" * 5000 + "]" * 5000, "nested more than"),
    (GOOD + ', "deep": ' + '{"a": ' * 20 + "1" + "}" * 20 + "}", "nested more than"),
    ('{"phone": "+1312555\\u00000123", "consent": true, "action": "subscribe"}', "NUL"),
    (b'{"phone": "+13125550123", "note": "\xff\xfe"}', "not UTF-8"),
]


def test_unstorable_json_is_a_400_with_a_reason(client, probe):
    for body, reason in BODIES:
        response = probe.attack(post_api(client, body))
        assert response.status_code == 400, (body[:60], response.content[:200])
        assert reason in response.json()["error"], (body[:60], response.json())
    assert not Subscriber.objects.exists() and not ConsentEvent.objects.exists()


def test_the_evidence_stored_is_clean_and_a_partner_structure_is_kept(client):
    body = GOOD + ', "source": {"page": "partner.example/signup", "ids": [1, 2.5, true]}}'
    assert post_api(client, body).status_code == 200
    evidence = ConsentEvent.objects.get().evidence
    assert evidence["payload"]["source"] == {
        "page": "partner.example/signup",
        "ids": [1, 2.5, True],
    }


@pytest.mark.parametrize(
    "data",
    [
        {"phone": "+1312555\x000123", "channel": "sms", "consent": "on"},
        {"phone": "+13125550123", "channel": "sms\x00", "consent": "on"},
        {"phone": "+13125550123", "channel": "sms", "consent": "on\x00"},
        {"phone": "+13125550123", "channel": "sms", "consent": "on", "ref": "x\x00y"},
        {"phone": "+13125550123", "channel": "sms", "consent": "on", "r\x00ef": "x"},
        {"phone": "\x00", "channel": "\x00", "consent": "\x00"},
    ],
)
def test_a_nul_in_any_form_field_is_a_400_and_stores_nothing(client, data, probe):
    response = probe.attack(client.post(FORM, data))
    assert response.status_code == 400
    assert "NUL" in response.content.decode() and "nothing was stored" in response.content.decode()
    assert "\x00" not in response.content.decode()
    assert not Subscriber.objects.exists() and not ConsentEvent.objects.exists()


def test_form_evidence_is_cleaned_like_every_stored_text(client):
    agent = "Mozilla/5.0 \ud800"  # a header the WSGI server would pass on as is
    response = client.post(
        FORM,
        {"phone": "+13125550123", "channel": "sms", "consent": "😀 ok"},
        HTTP_USER_AGENT=agent,
    )
    assert response.status_code == 302
    evidence = ConsentEvent.objects.get().evidence
    assert evidence["form"]["consent"] == "😀 ok"
    assert evidence["user_agent"] == "Mozilla/5.0 ?"


@pytest.fixture
def database_refuses_evidence():
    """The database refuses the consent event's INSERT, quoting the row as PostgreSQL
    does in its DETAIL line (with the number in the form it was typed)."""

    def refuse(execute, sql, params, many, context):
        if 'INSERT INTO "subscribers_consentevent"' in sql:
            raise DataError(f"invalid input syntax for type json DETAIL: {params}")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("door", ["api", "form"])
def test_a_database_error_is_a_503_and_the_log_does_not_echo_the_body(
    client, caplog, database_refuses_evidence, door
):
    caplog.set_level(logging.DEBUG)
    typed = "(312) 555-0123"
    if door == "api":
        body = {"phone": typed, "consent": True, "action": "subscribe", "note": "tel 3125550123"}
        response = post_api(client, json.dumps(body))
        assert response.json() == {"error": "the request could not be stored: try again"}
    else:
        data = {"phone": typed, "channel": "sms", "consent": "on", "note": "tel 3125550123"}
        response = client.post(FORM, data, HTTP_USER_AGENT="ua 3125550123")
        assert b"Please try again" in response.content
    assert response.status_code == 503
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "DataError" in logged and "/optin/" in logged
    assert "5550123" not in logged and "555-0123" not in logged
    assert not ConsentEvent.objects.exists()
