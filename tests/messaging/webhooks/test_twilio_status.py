import logging
from decimal import Decimal

import pytest

from messaging.models import DeliveryEvent, Message
from subscribers.consent import change
from subscribers.models import Subscriber
from tests.messaging.webhooks.conftest import new_sid

PHONE = "+13125550123"
pytestmark = pytest.mark.django_db


@pytest.fixture
def sent() -> Message:
    subscriber = change(PHONE, "opted_in", "web_form", {"form": "test"}).subscriber
    return Message.objects.create(
        direction="outbound", kind="broadcast", provider="twilio", phone=PHONE,
        subscriber=subscriber, body="Daily", status="sending", provider_message_id=new_sid(),
    )  # fmt: skip


def test_status_moves_forward(twilio, sent):
    assert twilio.status(sent.provider_message_id, "sent").status_code == 204
    sent.refresh_from_db()
    assert sent.status == "sent" and sent.sent_at is not None


def test_a_late_sent_never_overwrites_delivered(twilio, sent):
    twilio.status(sent.provider_message_id, "delivered")
    twilio.status(sent.provider_message_id, "sent")
    twilio.status(sent.provider_message_id, "queued")
    sent.refresh_from_db()
    assert sent.status == "delivered" and sent.delivered_at is not None
    assert list(sent.delivery_events.order_by("id").values_list("status", flat=True)) == [
        "delivered", "sent", "queued",
    ]  # fmt: skip


def test_whatsapp_read_comes_after_delivered(twilio, sent):
    twilio.status(sent.provider_message_id, "delivered")
    twilio.status(sent.provider_message_id, "read")
    sent.refresh_from_db()
    assert sent.status == "read"


def test_a_resent_identical_callback_is_kept_once(twilio, sent):
    twilio.status(sent.provider_message_id, "delivered")
    twilio.status(sent.provider_message_id, "delivered")
    assert DeliveryEvent.objects.count() == 1


def test_price_is_stored_as_a_positive_decimal(twilio, sent):
    twilio.status(sent.provider_message_id, "delivered", Price="-0.00750", PriceUnit="USD")
    sent.refresh_from_db()
    assert sent.price_actual == Decimal("0.00750") and sent.price_unit == "USD"
    assert DeliveryEvent.objects.get().price == Decimal("0.00750")


def test_a_junk_price_is_ignored(twilio, sent):
    assert twilio.status(sent.provider_message_id, "sent", Price="NaN").status_code == 204
    assert twilio.status(sent.provider_message_id, "delivered", Price="1e99").status_code == 204
    sent.refresh_from_db()
    assert sent.price_actual is None


@pytest.mark.parametrize(
    ("code", "meaning_part", "undeliverable"),
    [
        ("30003", "Unreachable", False),
        ("30004", "blocked", False),
        ("30005", "does not exist", True),
        ("30006", "Landline", True),
        ("30007", "spam", False),
        ("30008", "Unknown error", False),
        ("30036", "Validity period expired", False),  # TWILIO_BROADCAST_VALIDITY_HOURS
        ("63024", "invalid recipient", True),
    ],
)
def test_carrier_errors_are_recorded_with_their_meaning(
    twilio, sent, code, meaning_part, undeliverable
):
    twilio.status(sent.provider_message_id, "undelivered", ErrorCode=code)
    sent.refresh_from_db()
    assert (sent.status, sent.error_code) == ("undelivered", code)
    assert meaning_part in sent.error_message
    subscriber = Subscriber.objects.get()
    assert subscriber.undeliverable is undeliverable
    assert subscriber.consent_status == "opted_in"
    assert DeliveryEvent.objects.get().error_code == code


def test_partially_delivered_counts_as_delivered(twilio, sent):
    # Some segments (or media) reached the phone: it arrived, and Twilio bills it.
    assert twilio.status(sent.provider_message_id, "partially_delivered").status_code == 204
    sent.refresh_from_db()
    assert sent.status == "delivered"


def test_21610_turns_into_a_provider_opt_out(twilio, sent):
    twilio.status(sent.provider_message_id, "failed", ErrorCode="21610")
    subscriber = Subscriber.objects.get()
    assert subscriber.consent_status == "opted_out"
    event = subscriber.consent_events.order_by("-id").first()
    assert event.source == "provider"
    assert event.evidence == {
        "error_code": "21610", "provider": "twilio",
        "provider_message_id": sent.provider_message_id, "message_id": sent.pk,
    }  # fmt: skip


def test_an_unknown_message_sid_is_204_logged_and_kept(twilio, caplog):
    caplog.set_level(logging.WARNING)
    sid = new_sid()
    assert twilio.status(sid, "delivered").status_code == 204
    event = DeliveryEvent.objects.get()
    assert event.message is None and event.provider_message_id == sid
    assert "unknown" in caplog.text and sid in caplog.text


def test_the_payload_is_kept_with_phone_numbers_masked(twilio, sent):
    twilio.status(sent.provider_message_id, "delivered")
    assert DeliveryEvent.objects.get().payload["To"] == "+1******0123"


def test_missing_fields_are_a_400(twilio):
    assert twilio.post("/webhooks/twilio/status/", {"MessageStatus": "sent"}).status_code == 400
    assert twilio.post("/webhooks/twilio/status/", {"MessageSid": new_sid()}).status_code == 400


def test_a_forged_callback_is_refused(twilio, sent):
    params = {"MessageSid": sent.provider_message_id, "MessageStatus": "failed"}
    response = twilio.post("/webhooks/twilio/status/", params, signature="forged")
    assert response.status_code == 403
    assert not DeliveryEvent.objects.exists()


def test_a_report_that_comes_before_its_send_is_written_joins_it_at_the_sweep(twilio):
    """Sends are written a few at a time: Twilio may call back first."""
    from messaging.outbound import recovery

    sid = new_sid()
    twilio.status(sid, "delivered", Price="-0.00750", PriceUnit="USD")
    twilio.status(new_sid(), "delivered")  # never ours: stays on its own
    subscriber = change(PHONE, "opted_in", "web_form", {"form": "test"}).subscriber
    message = Message.objects.create(
        direction="outbound", kind="broadcast", provider="twilio", phone=PHONE,
        subscriber=subscriber, body="Daily", status="sent", provider_message_id=sid,
    )  # fmt: skip
    assert recovery.sweep().early_reports == 1
    message.refresh_from_db()
    assert message.status == "delivered" and message.delivered_at is not None
    assert message.price_actual == Decimal("0.00750")
    assert DeliveryEvent.objects.get(provider_message_id=sid).message == message
    assert DeliveryEvent.objects.filter(message__isnull=True).count() == 1
    assert recovery.sweep().early_reports == 0
