"""The WhatsApp 24-hour customer-service window."""

from datetime import timedelta

from django.utils import timezone

from messaging.models import Direction, Message, MessageKind, MessageStatus
from messaging.providers.twilio import window as whatsapp

PHONE = "+13125550123"


def inbound(channel: str, hours_ago: float, phone: str = PHONE) -> None:
    msg = Message.objects.create(
        direction=Direction.INBOUND,
        kind=MessageKind.INBOUND,
        channel=channel,
        provider="twilio",
        phone=phone,
        body="hello",
        status=MessageStatus.RECEIVED,
    )
    Message.objects.filter(pk=msg.pk).update(created_at=timezone.now() - timedelta(hours=hours_ago))


def test_no_inbound_means_outside_the_window(db):
    assert whatsapp.last_inbound_at(PHONE) is None
    assert not whatsapp.in_window(PHONE)


def test_the_latest_inbound_opens_the_window_for_24_hours(db):
    inbound("whatsapp", hours_ago=30)
    inbound("whatsapp", hours_ago=2)

    assert whatsapp.in_window(PHONE)
    assert whatsapp.in_window(f"whatsapp:{PHONE}")  # Twilio's address form works too
    assert not whatsapp.in_window(PHONE, now=timezone.now() + timedelta(hours=22, minutes=1))


def test_only_whatsapp_messages_from_that_number_count(db):
    inbound("sms", hours_ago=1)
    inbound("whatsapp", hours_ago=1, phone="+13125550124")

    assert not whatsapp.in_window(PHONE)
