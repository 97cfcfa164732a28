"""Twilio settles its own "needs review": every send's status callback URL carries the
portal's message id, so a send whose answer was lost is matched by its callback."""

import time
from urllib.parse import urlencode, urlsplit

import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from messaging.billing import build
from messaging.models import DeliveryEvent, Message, MessageStatus
from messaging.outbound import dispatch, retry, statements
from subscribers.consent import change
from tests.messaging.webhooks.conftest import FORM, new_sid

PHONE = "+13125550123"
pytestmark = pytest.mark.django_db


def queued_reply() -> Message:
    subscriber = change(PHONE, "opted_in", "web_form", {"form": "test"}).subscriber
    message = build.outbound(
        kind="reply", channel="sms", provider="twilio", phone=PHONE, body="Your word",
        subscriber=subscriber, status=MessageStatus.QUEUED,
    )  # fmt: skip
    message.save()
    return message


def callback(client, settings, url: str, sid: str, status: str, *, signed_url: str = ""):
    """Post a status callback to url as Twilio does: signed over the whole URL, query too."""
    params = {
        "MessageSid": sid,
        "MessageStatus": status,
        "To": PHONE,
        "AccountSid": "AC" + "0" * 32,
    }
    signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
        signed_url or url, params
    )
    parts = urlsplit(url)
    return client.post(
        f"{parts.path}?{parts.query}",
        urlencode(params),
        content_type=FORM,
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


@pytest.fixture
def lost_answer(twilio_server, settings):
    """A send Twilio accepted but whose answer never came back (the client timed out)."""
    settings.TWILIO_TIMEOUT_SECONDS = 0.3
    settings.TWILIO_VALIDATE_SIGNATURES = True
    twilio_server.hang_next(1.0)
    message = queued_reply()
    assert dispatch.send(message.pk).status == MessageStatus.NEEDS_REVIEW
    message.refresh_from_db()
    assert message.provider_message_id is None and message.error_code == "net:timeout"
    [request] = twilio_server.requests
    deadline = time.monotonic() + 10
    while not twilio_server.messages:  # Twilio has it all the same, once it answers
        assert time.monotonic() < deadline
        time.sleep(0.05)
    [accepted] = twilio_server.messages
    return message, request.form["StatusCallback"], accepted["sid"]


def test_every_send_names_the_message_in_its_callback_url(twilio_server, settings):
    message = queued_reply()
    dispatch.send(message.pk)
    [request] = twilio_server.requests
    assert request.form["StatusCallback"] == (
        f"{settings.PUBLIC_BASE_URL}/webhooks/twilio/status/?message={message.pk}"
    )


def test_a_lost_answer_is_settled_by_its_status_callback(client, settings, lost_answer):
    message, url, sid = lost_answer
    assert callback(client, settings, url, sid, "sent").status_code == 204
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (MessageStatus.SENT, sid)
    assert message.error_code == "" and message.sent_at is not None

    callback(client, settings, url, sid, "delivered")
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert DeliveryEvent.objects.filter(message=message).count() == 2
    # Settled as sent: never sent again, and no operator is asked to.
    with pytest.raises(retry.RetryRefused):
        retry.retry(message.pk, confirmed_not_sent=True)


def test_a_send_still_in_flight_keeps_its_settled_state(client, settings, lost_answer):
    """The callback can beat the worker's own write of the answer: that write then
    finds the message settled and changes nothing (it updates sending or needs review)."""
    message, url, sid = lost_answer
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENDING)
    callback(client, settings, url, sid, "delivered")
    statements.mark_sent([(message.pk, sid, None, timezone.now())], timezone.now())
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (MessageStatus.DELIVERED, sid)


def test_a_message_that_has_its_answer_is_not_taken_over(client, settings, lost_answer):
    message, url, _ = lost_answer
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENT, provider_message_id="SM" + "f" * 32
    )
    callback(client, settings, url, new_sid(), "delivered")  # another send's SID
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert DeliveryEvent.objects.get().message is None  # kept, unmatched


def test_the_message_id_is_signed_with_the_url(client, settings, lost_answer):
    message, url, sid = lost_answer
    other = url.replace(f"message={message.pk}", "message=999999")
    # Signed for one URL, posted to another: refused.
    assert callback(client, settings, other, sid, "sent", signed_url=url).status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.NEEDS_REVIEW


def test_a_message_id_that_is_not_a_number_is_a_400(client, settings, lost_answer):
    _, url, sid = lost_answer
    bad = url.split("?")[0] + "?message=abc"
    response = callback(client, settings, bad, sid, "sent")
    assert response.status_code == 400 and b"message must be a message id" in response.content


@pytest.mark.parametrize("value", ["%C2%B2", "%D9%A3", "9" * 30])
def test_digits_that_are_not_an_id_are_a_400_too(client, settings, lost_answer, value):
    # "²" and Arabic-Indic "٣" are digits to str.isdigit but not to int(); 30 nines
    # overflow the database's integer.
    _, url, sid = lost_answer
    response = callback(client, settings, url.split("?")[0] + f"?message={value}", sid, "sent")
    assert response.status_code == 400 and b"message must be a message id" in response.content
