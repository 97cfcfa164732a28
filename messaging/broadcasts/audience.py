"""Who a broadcast goes to, what it would cost, and its message for one subscriber."""

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Min, QuerySet
from django.db.models.functions import Substr

from messaging.models import (
    Broadcast,
    Message,
    MessageKind,
    MessageStatus,
    Provider,
)
from messaging.outbound import pricing, segments
from messaging.outbound.build import outbound
from subscribers.models import Channel, ConsentStatus, Subscriber

log = logging.getLogger(__name__)

# "+1312", "+4420": the country code and the digits after it that pick the country.
PRICE_GROUP_DIGITS = 5


def provider_for(channel: str) -> str:
    """SNS cannot reach WhatsApp: WhatsApp always goes through Twilio."""
    if channel == Channel.WHATSAPP and settings.SMS_PROVIDER == Provider.SNS:
        return Provider.TWILIO
    return settings.SMS_PROVIDER


def audience(channel: str = "") -> QuerySet[Subscriber]:
    """Who a broadcast goes to: opted in, deliverable, not erased (index-backed)."""
    subscribers = Subscriber.objects.filter(
        consent_status=ConsentStatus.OPTED_IN, undeliverable=False, erased_at__isnull=True
    )
    return subscribers.filter(channel=channel) if channel else subscribers


@dataclass
class Preview:
    recipients: int
    by_channel: dict[str, int]
    encoding: str
    segments: int
    warnings: list[str]
    projected_cost: Decimal
    cost_by_provider: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelPrices:
    """A channel's audience and what one message to each of them costs, summed."""

    recipients: int
    unit_total: Decimal  # per SMS segment (or WhatsApp message), summed over recipients
    template_total: Decimal  # the same for a WhatsApp template

    def unit(self, *, template: bool = False) -> Decimal:
        """The average unit price over the audience (its countries' own prices)."""
        total = self.template_total if template else self.unit_total
        return (total / self.recipients).quantize(Decimal("0.00001")) if self.recipients else total


def prices_by_channel(channel: str = "") -> dict[str, ChannelPrices]:
    """Per channel, the audience and its unit prices summed over the recipients' countries.

    Numbers sharing their first digits (country code and area code) share a country:
    each such group is priced once, by one of its numbers (one grouped query).
    """
    groups = (
        audience(channel)
        .annotate(prefix=Substr("phone", 1, PRICE_GROUP_DIGITS))
        .values_list("channel", "prefix")
        .annotate(n=Count("id"), sample=Min("phone"))
        .order_by()
    )
    sums: dict[str, list] = {}
    for ch, _prefix, n, sample in groups:
        provider = provider_for(ch)
        row = sums.setdefault(ch, [0, Decimal("0"), Decimal("0")])
        row[0] += n
        row[1] += pricing.unit_price(provider, ch, sample) * n
        row[2] += pricing.unit_price(provider, ch, sample, template=True) * n
    return {ch: ChannelPrices(*sums[ch]) for ch in sorted(sums)}


def preview(text: str, channel: str = "", *, template: bool = False) -> Preview:
    """Recipients, segments and projected cost of sending text now."""
    info = segments.count(text)
    costs: dict[str, Decimal] = {}
    by_channel = prices_by_channel(channel)
    for ch, prices in by_channel.items():
        whatsapp = ch == Channel.WHATSAPP
        per_message = prices.template_total if template and whatsapp else prices.unit_total
        cost = per_message if whatsapp else per_message * info.segments
        provider = provider_for(ch)
        costs[provider] = costs.get(provider, Decimal("0")) + cost
    return Preview(
        recipients=sum(p.recipients for p in by_channel.values()),
        by_channel={ch: p.recipients for ch, p in by_channel.items()},
        encoding=info.encoding,
        segments=info.segments,
        warnings=info.warnings,
        projected_cost=sum(costs.values(), Decimal("0")),
        cost_by_provider=costs,
    )


def build_message(broadcast: Broadcast, subscriber: Subscriber, *, test: bool = False) -> Message:
    """The broadcast's message for one subscriber; or, with test, a test send of it
    (a message of its own kind, linked apart, never one of the broadcast's)."""
    whatsapp = subscriber.channel == Channel.WHATSAPP
    link = {"test_of": broadcast} if test else {"broadcast": broadcast}
    return outbound(
        kind=MessageKind.TEST if test else MessageKind.BROADCAST,
        channel=subscriber.channel,
        provider=provider_for(subscriber.channel),
        phone=subscriber.phone,
        body=broadcast.text,
        template=whatsapp and bool(broadcast.whatsapp_content_sid),
        subscriber=subscriber,
        **link,
        # The provider needs the template for WhatsApp outside the 24-hour window.
        content_sid=broadcast.whatsapp_content_sid if whatsapp else "",
        content_variables=broadcast.whatsapp_content_variables if whatsapp else {},
        status=MessageStatus.QUEUED,
    )
