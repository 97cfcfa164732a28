"""Estimated price of a message, from the configured price table."""

from decimal import Decimal

from django.conf import settings

from messaging.outbound.segments import count

ZERO = Decimal("0")


def unit_price(provider: str, channel: str, *, template: bool = False) -> Decimal:
    """USD per SMS segment, or per WhatsApp message."""
    if provider == "sns":
        return settings.PRICE_SNS_SMS_USD
    if provider == "twilio":
        if channel == "whatsapp":
            if template:
                return settings.PRICE_TWILIO_WHATSAPP_TEMPLATE_USD
            return settings.PRICE_TWILIO_WHATSAPP_USD
        return settings.PRICE_TWILIO_SMS_USD
    return ZERO  # the console provider sends nothing


def estimate(provider: str, channel: str, text: str, *, template: bool = False) -> Decimal:
    """Segments × unit price for SMS; one unit for WhatsApp, which is not segmented."""
    price = unit_price(provider, channel, template=template)
    if channel == "whatsapp":
        return price
    return price * count(text).segments
