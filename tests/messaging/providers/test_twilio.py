"""The Twilio provider: the real twilio client against the local Twilio-compatible server."""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from messaging.delivery.error_codes import Action, describe
from messaging.models import Direction, Message, MessageKind, MessageStatus
from messaging.providers.base import ErrorKind, ProviderError
from tests.conftest import free_port
from tests.messaging.providers.conftest import SMS_FROM, WHATSAPP_FROM, refusal, send

PHONE = "+13125550123"
CALLBACK = "https://portal.example.test/webhooks/twilio/status/?message={pk}"


def assert_no_secret(twilio_server, *records: dict) -> None:
    text = json.dumps(records)
    assert twilio_server.auth_token not in text
    assert "authorization" not in text.lower()
    assert PHONE not in text  # numbers are masked in provider-call records


def inbound_whatsapp(phone: str, hours_ago: float) -> None:
    msg = Message.objects.create(
        direction=Direction.INBOUND,
        kind=MessageKind.INBOUND,
        channel="whatsapp",
        provider="twilio",
        phone=phone,
        body="hi",
        status=MessageStatus.RECEIVED,
    )
    Message.objects.filter(pk=msg.pk).update(created_at=timezone.now() - timedelta(hours=hours_ago))


def test_sms_from_number_with_status_callback(twilio_server, outbound):
    message = outbound(PHONE)
    sent = send(message)

    [request] = twilio_server.requests
    assert request.authorized
    assert request.path == f"/2010-04-01/Accounts/{twilio_server.account_sid}/Messages.json"
    assert request.form == {
        "To": PHONE,
        "From": SMS_FROM,
        "Body": "Good morning! Today's tip: drink water.",
        "StatusCallback": CALLBACK.format(pk=message.pk),
        "ValidityPeriod": "14400",  # a broadcast message: TWILIO_BROADCAST_VALIDITY_HOURS=4
    }
    [accepted] = twilio_server.messages
    assert sent.provider_message_id == accepted["sid"]
    assert sent.provider_message_id.startswith("SM") and len(sent.provider_message_id) == 34
    assert sent.price is None  # Twilio prices a message only later
    assert sent.http_status == 201
    assert sent.response["status"] == "queued"
    assert sent.request["form"]["To"] == "+1******0123"
    assert_no_secret(twilio_server, sent.request, sent.response)


def test_price_reported_by_twilio_is_kept_as_a_positive_decimal(twilio_server, outbound):
    twilio_server.price = "-0.00790"
    assert send(outbound(PHONE)).price == Decimal("0.00790")


def test_sms_through_a_messaging_service(twilio_server, outbound, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "0" * 32
    message = outbound(PHONE)
    send(message)

    [request] = twilio_server.requests
    assert request.form["MessagingServiceSid"] == "MG" + "0" * 32
    assert "From" not in request.form
    assert request.form["StatusCallback"] == CALLBACK.format(pk=message.pk)


def test_whatsapp_inside_the_window_sends_the_text(twilio_server, outbound):
    inbound_whatsapp(PHONE, hours_ago=23)
    send(outbound(PHONE, channel="whatsapp", content_sid="HX" + "1" * 32))

    [request] = twilio_server.requests
    assert request.form["To"] == f"whatsapp:{PHONE}"
    assert request.form["From"] == f"whatsapp:{WHATSAPP_FROM}"
    assert request.form["Body"] == "Good morning! Today's tip: drink water."
    assert "ContentSid" not in request.form


def test_whatsapp_outside_the_window_sends_the_template(twilio_server, outbound):
    inbound_whatsapp(PHONE, hours_ago=25)
    template = "HX" + "1" * 32
    sent = send(
        outbound(PHONE, channel="whatsapp", content_sid=template, content_variables={"1": "Monday"})
    )

    [request] = twilio_server.requests
    assert request.form["ContentSid"] == template
    assert json.loads(request.form["ContentVariables"]) == {"1": "Monday"}
    assert "Body" not in request.form
    assert sent.provider_message_id == twilio_server.messages[0]["sid"]


def test_whatsapp_outside_the_window_without_a_template_is_refused_unsent(twilio_server, outbound):
    error = refusal(outbound(PHONE, channel="whatsapp"))

    assert (error.kind, error.code) == (ErrorKind.PERMANENT, "63016")
    assert describe(error.code).action == Action.RESEND_AS_TEMPLATE
    assert twilio_server.requests == []


@pytest.mark.parametrize(
    ("status", "code", "kind", "expected_code"),
    [
        (429, None, ErrorKind.RETRYABLE, "20429"),
        (503, None, ErrorKind.RETRYABLE, "503"),
        (500, 20500, ErrorKind.AMBIGUOUS, "20500"),
        (400, 21610, ErrorKind.PERMANENT, "21610"),
        (400, 21211, ErrorKind.PERMANENT, "21211"),
        (400, 21614, ErrorKind.PERMANENT, "21614"),
        (400, 30005, ErrorKind.PERMANENT, "30005"),
        (400, 30006, ErrorKind.PERMANENT, "30006"),
        (400, 63016, ErrorKind.PERMANENT, "63016"),
        (400, 21408, ErrorKind.PERMANENT, "21408"),
    ],
)
def test_twilio_errors_are_classified(twilio_server, outbound, status, code, kind, expected_code):
    twilio_server.fail_next(status, code=code)
    error = refusal(outbound(PHONE))

    assert (error.kind, error.code, error.http_status) == (kind, expected_code, status)
    assert error.response["status"] == status
    assert len(twilio_server.requests) == 1
    assert_no_secret(twilio_server, error.request, error.response)


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, 21211, ErrorKind.PERMANENT),
        (500, 20500, ErrorKind.AMBIGUOUS),
        (429, 20429, ErrorKind.RETRYABLE),
    ],
)
def test_rfc9457_error_bodies_are_classified_alike(twilio_server, outbound, status, code, kind):
    twilio_server.fail_next(status, code=code, problem=True)
    error = refusal(outbound(PHONE))

    assert (error.kind, error.code, error.http_status) == (kind, str(code), status)
    assert error.response["message"] == error.message != ""


@pytest.mark.parametrize(
    ("code", "action"),
    [
        ("21610", Action.OPT_OUT),
        ("21211", Action.UNDELIVERABLE),
        ("21614", Action.UNDELIVERABLE),
        ("30005", Action.UNDELIVERABLE),
        ("30006", Action.UNDELIVERABLE),
        ("63016", Action.RESEND_AS_TEMPLATE),
        ("21408", Action.REFUSED_DESTINATION),
        ("20003", Action.CONFIGURATION),
    ],
)
def test_permanent_codes_carry_the_action_dispatch_takes(code, action):
    assert describe(code).action == action


def test_wrong_credentials_are_a_configuration_error(twilio_server, outbound, settings):
    settings.TWILIO_AUTH_TOKEN = "not-the-token-0123456789"
    error = refusal(outbound(PHONE))

    assert (error.kind, error.code, error.http_status) == (ErrorKind.CONFIG, "20003", 401)
    assert twilio_server.requests[0].authorized is False
    assert twilio_server.messages == []
    assert "not-the-token-0123456789" not in json.dumps([error.request, error.response])


def test_connection_refused_is_retryable_and_nothing_was_sent(twilio_server, outbound, settings):
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{free_port()}"
    error = refusal(outbound(PHONE))

    assert (error.kind, error.code) == (ErrorKind.RETRYABLE, "net:connect")


def test_timeout_after_sending_is_ambiguous(twilio_server, outbound, settings):
    settings.TWILIO_TIMEOUT_SECONDS = 0.3
    twilio_server.hang_next(1.0)
    error = refusal(outbound(PHONE))

    assert (error.kind, error.code) == (ErrorKind.AMBIGUOUS, "net:timeout")
    assert len(twilio_server.requests) == 1  # it did reach Twilio: a retry could send twice


def test_the_client_recovers_after_a_fault(twilio_server, outbound):
    twilio_server.fail_next(429)
    with pytest.raises(ProviderError):
        send(outbound(PHONE))
    send(outbound("+13125550124"))
    assert [m["to"] for m in twilio_server.messages] == ["+13125550124"]


@pytest.mark.parametrize("missing", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_SMS_FROM"])
def test_missing_settings_are_configuration_errors(twilio_server, outbound, settings, missing):
    setattr(settings, missing, "")
    error = refusal(outbound(PHONE))

    assert (error.kind, describe(error.code).action) == (ErrorKind.CONFIG, Action.CONFIGURATION)
    assert missing in error.message
    assert twilio_server.requests == []


def test_whatsapp_without_a_sender_is_a_configuration_error(twilio_server, outbound, settings):
    settings.TWILIO_WHATSAPP_NUMBER = ""
    error = refusal(outbound(PHONE, channel="whatsapp"))

    assert error.kind == ErrorKind.CONFIG
    assert "TWILIO_WHATSAPP_NUMBER" in error.message


def test_concurrent_senders_each_send_once(twilio_server, outbound):
    twilio_server.latency = 0.05
    messages = [outbound(f"+131255501{n:02d}") for n in range(20)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        sids = list(pool.map(lambda m: send(m).provider_message_id, messages))

    assert len(set(sids)) == 20
    assert sorted(m["to"] for m in twilio_server.messages) == sorted(m.phone for m in messages)
