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


def preview(text: str, channel: str = "", *, template: bool = False) -> Preview:
    """Recipients, segments and projected cost of sending text now."""
    info = segments.count(text)
    # Prices differ by country: numbers sharing their first digits (country code and
    # area code) share one, so each such group is priced once, by one of its numbers.
    groups = (
        audience(channel)
        .annotate(prefix=Substr("phone", 1, PRICE_GROUP_DIGITS))
        .values_list("channel", "prefix")
        .annotate(n=Count("id"), sample=Min("phone"))
        .order_by()
    )
    by_channel: dict[str, int] = {}
    costs: dict[str, Decimal] = {}
    for ch, _prefix, n, sample in groups:
        by_channel[ch] = by_channel.get(ch, 0) + n
        provider = provider_for(ch)
        unit = pricing.estimate(
            provider, ch, text, phone=sample, template=template and ch == Channel.WHATSAPP
        )
        costs[provider] = costs.get(provider, Decimal("0")) + unit * n
    return Preview(
        recipients=sum(by_channel.values()),
        by_channel=dict(sorted(by_channel.items())),
        encoding=info.encoding,
        segments=info.segments,
        warnings=info.warnings,
        projected_cost=sum(costs.values(), Decimal("0")),
        cost_by_provider=costs,
    )


def build_message(broadcast: Broadcast, subscriber: Subscriber) -> Message:
    whatsapp = subscriber.channel == Channel.WHATSAPP
    return outbound(
        kind=MessageKind.BROADCAST,
        channel=subscriber.channel,
        provider=provider_for(subscriber.channel),
        phone=subscriber.phone,
        body=broadcast.text,
        template=whatsapp and bool(broadcast.whatsapp_content_sid),
        subscriber=subscriber,
        broadcast=broadcast,
        # The provider needs the template for WhatsApp outside the 24-hour window.
        content_sid=broadcast.whatsapp_content_sid if whatsapp else "",
        content_variables=broadcast.whatsapp_content_variables if whatsapp else {},
        status=MessageStatus.QUEUED,
    )
