"""Whatever arrives, correctly signed or not, the answer is a 2xx or a 4xx."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging.models import Message
from tests.messaging.webhooks.conftest import (
    FORM,
    INBOUND_TOPIC_ARN,
    STATUS_TOPIC_ARN,
    new_sid,
    post_sns,
)

pytestmark = pytest.mark.django_db
FIXTURES_OK = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

phones = st.one_of(
    st.sampled_from(
        ["+13125550123", "(312) 555-0124", "312.555.0125", "+1 312 555 0126", "13125550127",
         "whatsapp:+13125550128", "0013125550129", "+", "", "+999999999999999999999", "٣١٢٥٥٥٠١٢٣"]
    ),
    st.text(max_size=30),
)  # fmt: skip
bodies = st.one_of(
    st.sampled_from(["STOP", "start", "JOIN MITZVAH", "help", "TODAY", "🙂 stop 🙂", "مرحبا بك"]),
    st.text(max_size=300),
)
field_names = st.one_of(
    st.sampled_from(["MessageSid", "SmsSid", "From", "To", "Body", "MessageStatus", "ErrorCode",
                     "Price", "PriceUnit", "NumMedia"]),
    st.text(min_size=1, max_size=20),
)  # fmt: skip
anything = st.dictionaries(field_names, st.text(max_size=200), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)


def is_2xx_or_4xx(response) -> bool:
    return 200 <= response.status_code < 500


@FIXTURES_OK
@given(sender=phones, body=bodies)
def test_twilio_inbound_plausible_messages(twilio, sender, body):
    response = twilio.inbound(body, sender=sender)
    assert is_2xx_or_4xx(response)
    if response.status_code == 200:
        assert response["Content-Type"].startswith("text/xml")


@FIXTURES_OK
@given(params=anything)
def test_twilio_inbound_any_fields(twilio, params):
    assert is_2xx_or_4xx(twilio.post("/webhooks/twilio/inbound/", params))


@FIXTURES_OK
@given(params=anything, status=st.text(max_size=30), price=st.text(max_size=30))
def test_twilio_status_any_fields(twilio, params, status, price):
    params = {"MessageSid": new_sid(), "MessageStatus": status, "Price": price, **params}
    assert is_2xx_or_4xx(twilio.post("/webhooks/twilio/status/", params))


@FIXTURES_OK
@given(
    payload=st.fixed_dictionaries(
        {},
        optional={
            "originationNumber": phones | json_values,
            "destinationNumber": phones,
            "messageBody": bodies | json_values,
            "inboundMessageId": st.text(max_size=120) | json_values,
            "previousPublishedMessageId": json_values,
        },
    ),
    topic=st.sampled_from([INBOUND_TOPIC_ARN, STATUS_TOPIC_ARN]),
)
def test_sns_signed_notifications(client, sns_signer, payload, topic):
    assert is_2xx_or_4xx(post_sns(client, sns_signer.notification(topic, payload)))


@FIXTURES_OK
@given(message=st.text(max_size=300) | json_values.map(json.dumps))
def test_sns_signed_messages_of_any_text(client, sns_signer, message):
    for topic in (INBOUND_TOPIC_ARN, STATUS_TOPIC_ARN):
        assert is_2xx_or_4xx(post_sns(client, sns_signer.notification(topic, message)))


@FIXTURES_OK
@given(envelope=json_values)
def test_sns_any_json(client, sns_signer, envelope):
    assert is_2xx_or_4xx(post_sns(client, json.dumps(envelope)))


# --- the awkward cases, named -------------------------------------------------------


def test_a_100_kb_message_is_stored_whole(twilio):
    body = "x" * 100_000
    assert twilio.inbound(body).status_code == 200
    assert len(Message.objects.get(direction="inbound").body) == 100_000


def test_bad_utf8_form_bodies_are_answered(twilio):
    raw = b"MessageSid=SM1&From=%2B13125550123&Body=%FF%FE%C3%28"
    # Django reads undecodable bytes with replacement characters; Twilio signs text.
    params = {"MessageSid": "SM1", "From": "+13125550123", "Body": "\ufffd\ufffd\ufffd("}
    signature = twilio.signature("/webhooks/twilio/inbound/", params)
    response = twilio.client.post(
        "/webhooks/twilio/inbound/", raw, content_type=FORM, HTTP_X_TWILIO_SIGNATURE=signature
    )
    assert is_2xx_or_4xx(response)


def test_bad_utf8_and_nested_json_to_sns_are_400(client, sns_signer):
    assert post_sns(client, b"\xff\xfe{not json").status_code == 400
    assert post_sns(client, "[" * 100_000 + "]" * 100_000).status_code == 400
    assert post_sns(client, "[1, 2]").status_code == 400


def test_emoji_and_right_to_left_text_are_kept_verbatim(twilio, client, sns_signer):
    twilio.inbound("مرحبا 👋🏽 שלום")
    post_sns(client, sns_signer.inbound_sms("emoji 🧵 and עברית", sender="+13125550124"))
    bodies = set(Message.objects.filter(direction="inbound").values_list("body", flat=True))
    assert bodies == {"مرحبا 👋🏽 שלום", "emoji 🧵 and עברית"}


def test_nul_characters_are_dropped_not_fatal(twilio, client, sns_signer):
    assert twilio.inbound("he\x00llo").status_code == 200
    envelope = sns_signer.inbound_sms("a\x00b", sender="+13125550124", extra="\x00")
    assert post_sns(client, envelope).status_code == 200
    assert set(Message.objects.filter(direction="inbound").values_list("body", flat=True)) == {
        "hello", "ab",
    }  # fmt: skip


def test_an_overlong_message_sid_is_a_400(twilio):
    assert twilio.inbound("hi", sid="SM" + "9" * 200).status_code == 400
    response = twilio.post(
        "/webhooks/twilio/status/", {"MessageSid": "SM" + "9" * 200, "MessageStatus": "sent"}
    )
    assert response.status_code == 400


def test_an_urlencoded_body_posted_as_multipart_garbage_is_a_4xx(twilio):
    response = twilio.client.post(
        "/webhooks/twilio/inbound/",
        b"--broken\r\n\r\n",
        content_type="multipart/form-data; boundary=broken",
        HTTP_X_TWILIO_SIGNATURE="x",
    )
    assert is_2xx_or_4xx(response)
