"""WhatsApp's 24-hour customer-service window.

Inside the window (the number wrote to us in the last 24 hours) any free-form
message may be sent; outside it, a business-initiated message must be an
approved template (ContentSid plus ContentVariables).
"""

from datetime import datetime

from django.utils import timezone

from messaging.models import Direction, Message
from messaging.skips import WHATSAPP_WINDOW
from subscribers.models import Channel
from subscribers.phones import split_channel

WINDOW = WHATSAPP_WINDOW


def last_inbound_at(phone: str) -> datetime | None:
    """When the number last wrote to us on WhatsApp, or None."""
    number, _ = split_channel(phone)
    latest = (
        Message.objects.filter(direction=Direction.INBOUND, channel=Channel.WHATSAPP, phone=number)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return latest


def in_window(phone: str, now: datetime | None = None) -> bool:
    """True when the number sent us a WhatsApp message in the last 24 hours."""
    latest = last_inbound_at(phone)
    if latest is None:
        return False
    return latest > (now or timezone.now()) - WINDOW
