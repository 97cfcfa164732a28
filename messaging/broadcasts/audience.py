"""Who a broadcast goes to, what it would cost, and its message for one subscriber."""

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, QuerySet

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


def recipients_by_channel(channel: str = "") -> dict[str, int]:
    """How many subscribers a broadcast would reach now, per channel (one grouped query)."""
    return dict(
        audience(channel).values_list("channel").annotate(n=Count("id")).order_by("channel")
    )


def preview(text: str, channel: str = "", *, template: bool = False) -> Preview:
    """Recipients, segments and projected cost of sending text now."""
    info = segments.count(text)
    by_channel = recipients_by_channel(channel)
    costs: dict[str, Decimal] = {}
    for ch, n in by_channel.items():
        provider = provider_for(ch)
        unit = pricing.estimate(provider, ch, text, template=template and ch == Channel.WHATSAPP)
        costs[provider] = costs.get(provider, Decimal("0")) + unit * n
    return Preview(
        recipients=sum(by_channel.values()),
        by_channel=by_channel,
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
