"""Estimated price of a message: segments × the destination country's unit price.

Unit prices come from the CountryPrice table (editable in the admin), looked up
by provider, channel and the destination's country as phonenumbers knows it,
falling back to the provider's "every other country" row. The table is small
and read on every message built, so each process keeps a copy for
PRICE_TABLE_SECONDS and drops it at once when the table changes in that
process. DEFAULT_PRICES (also what the migration seeds) stands in for a
provider and channel the table has no row for at all. The console provider
sends nothing but is priced as the provider it stands in for
(CONSOLE_PRICES_AS), so a demo's costs look like a real bill.
"""

import time
from decimal import Decimal
from functools import lru_cache
from typing import Any

import phonenumbers
from django.conf import settings
from django.db.models.signals import post_delete, post_save

from messaging.billing.segments import count
from messaging.models import CountryPrice, Provider
from subscribers.models import Channel

ZERO = Decimal("0")
PRICE_TABLE_SECONDS = 60.0
OTHER_COUNTRIES = ""
# Channels charged per message, not per SMS segment.
PER_MESSAGE = frozenset({Channel.WHATSAPP, Channel.EMAIL})

# (provider, channel, country) -> (price per segment or message, WhatsApp template price)
Key = tuple[str, str, str]
Rates = dict[Key, tuple[Decimal, Decimal | None]]
DEFAULT_PRICES: Rates = {
    (Provider.SNS, Channel.SMS, "US"): (Decimal("0.00645"), None),
    (Provider.SNS, Channel.SMS, OTHER_COUNTRIES): (Decimal("0.00645"), None),
    (Provider.TWILIO, Channel.SMS, "US"): (Decimal("0.0083"), None),
    (Provider.TWILIO, Channel.SMS, OTHER_COUNTRIES): (Decimal("0.0083"), None),
    (Provider.TWILIO, Channel.WHATSAPP, "US"): (Decimal("0.005"), Decimal("0.025")),
    (Provider.TWILIO, Channel.WHATSAPP, OTHER_COUNTRIES): (Decimal("0.005"), Decimal("0.025")),
}


class _Table:
    """The CountryPrice rows of this process, re-read every PRICE_TABLE_SECONDS."""

    def __init__(self) -> None:
        self._rates: Rates | None = None
        self._read_at = 0.0

    def rates(self) -> Rates:
        if self._rates is None or time.monotonic() - self._read_at > PRICE_TABLE_SECONDS:
            rows = CountryPrice.objects.values_list(
                "provider", "channel", "country", "price_usd", "template_price_usd"
            )
            self._rates = {(p, ch, c): (price, template) for p, ch, c, price, template in rows}
            self._read_at = time.monotonic()
        return self._rates

    def forget(self, **kwargs: Any) -> None:
        self._rates = None


table = _Table()
post_save.connect(table.forget, sender=CountryPrice, dispatch_uid="pricing-table-saved")
post_delete.connect(table.forget, sender=CountryPrice, dispatch_uid="pricing-table-deleted")


@lru_cache(maxsize=8192)
def country_of(phone: str) -> str:
    """The ISO region of an E.164 number ("US", "AU"), or "" when phonenumbers cannot tell."""
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return OTHER_COUNTRIES
    return phonenumbers.region_code_for_number(parsed) or OTHER_COUNTRIES


def priced_as(provider: str, channel: str) -> str:
    """The provider whose prices a message is estimated at: the console stands in for
    CONSOLE_PRICES_AS, and for Twilio on WhatsApp (SNS does not send WhatsApp). SNS's
    SMS is billed at End User Messaging SMS's prices: aws-sms shares the SNS rows."""
    if provider == Provider.AWS_SMS:
        return Provider.SNS
    if provider != Provider.CONSOLE:
        return provider
    return Provider.TWILIO if channel == Channel.WHATSAPP else settings.CONSOLE_PRICES_AS


def provider_label(code: str, channel: str = "") -> str:
    """The name operators know a provider by ("AWS SNS", "Twilio"); the console's says
    what it is priced as (priced_as): on channel when one is given, else on SMS and
    WhatsApp both where they differ, as SNS sends no WhatsApp."""
    labels = dict(Provider.choices)
    if code != Provider.CONSOLE:
        return labels.get(code, code)
    if channel and channel != Channel.EMAIL:
        return f"Console (priced as {labels[priced_as(code, channel)]})"
    sms, whatsapp = (labels[priced_as(code, ch)] for ch in (Channel.SMS, Channel.WHATSAPP))
    if sms == whatsapp:
        return f"Console (priced as {sms})"
    return f"Console (priced as {sms}; WhatsApp as {whatsapp})"


def unit_price(provider: str, channel: str, phone: str, *, template: bool = False) -> Decimal:
    """USD per SMS segment, or per WhatsApp message, to phone's country ("" for a
    number of unknown country: the "every other country" price). An e-mail costs
    SES_PRICE_PER_EMAIL wherever it goes."""
    if channel == Channel.EMAIL:
        return settings.SES_PRICE_PER_EMAIL
    provider = priced_as(provider, channel)
    country = country_of(phone)
    for rates in (table.rates(), DEFAULT_PRICES):
        found = rates.get((provider, channel, country)) or rates.get(
            (provider, channel, OTHER_COUNTRIES)
        )
        if found is not None:
            price, template_price = found
            return template_price if template and template_price is not None else price
    return ZERO


def estimate(
    provider: str, channel: str, text: str, *, phone: str, template: bool = False
) -> Decimal:
    """Segments × unit price for SMS; one unit for WhatsApp and e-mail, not segmented."""
    price = unit_price(provider, channel, phone, template=template)
    if channel in PER_MESSAGE:
        return price
    return price * count(text).segments
