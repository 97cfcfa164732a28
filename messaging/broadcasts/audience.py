"""Who a broadcast goes to, what it would cost, and its message for one subscriber."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone

from messaging.broadcasts import sandbox
from messaging.models import (
    Broadcast,
    Message,
    MessageKind,
    MessageStatus,
    Provider,
)
from messaging.outbound import pricing, ratelimit, segments
from messaging.outbound.build import outbound
from subscribers import localtime
from subscribers.models import Channel, ConsentStatus, Subscriber

log = logging.getLogger(__name__)

# "+1312", "+4420": the country code and the digits after it that pick the country.
PRICE_GROUP_DIGITS = 5


def provider_for(channel: str) -> str:
    """AWS cannot reach WhatsApp: WhatsApp always goes through Twilio."""
    if channel == Channel.WHATSAPP and settings.SMS_PROVIDER in (Provider.SNS, Provider.AWS_SMS):
        return Provider.TWILIO
    return settings.SMS_PROVIDER


def audience(channel: str = "", at: datetime | None = None) -> QuerySet[Subscriber]:
    """Who a broadcast goes to at a moment (now by default): opted in, deliverable, not
    erased (index-backed), and not paused then."""
    subscribers = Subscriber.objects.filter(
        consent_status=ConsentStatus.OPTED_IN, undeliverable=False, erased_at__isnull=True
    ).filter(Q(paused_until__isnull=True) | Q(paused_until__lte=at or timezone.now()))
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
    # Recipients whose clock is inside QUIET_HOURS now: theirs wait for the morning.
    in_quiet_hours: int = 0
    # SMS recipients the AWS SMS sandbox would refuse now (not verified destinations).
    sandbox_refused: int = 0


@dataclass(frozen=True)
class ChannelPrices:
    """A channel's audience and what one message to each of them costs, summed."""

    recipients: int
    unit_total: Decimal  # per SMS segment (or WhatsApp message), summed over recipients
    template_total: Decimal  # the same for a WhatsApp template


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
    now = timezone.now()
    by_channel: dict[str, int] = {}
    in_quiet_hours = 0
    for ch, zone, n in (
        audience(channel, now).values_list("channel", "timezone").annotate(n=Count("id")).order_by()
    ):
        by_channel[ch] = by_channel.get(ch, 0) + n
        in_quiet_hours += n if localtime.held_until(zone, now) else 0
    by_channel = dict(sorted(by_channel.items()))
    by_provider = costs(text, by_channel, template=template, prices=prices_by_channel(channel))
    return Preview(
        recipients=sum(by_channel.values()),
        by_channel=by_channel,
        encoding=info.encoding,
        segments=info.segments,
        warnings=info.warnings,
        projected_cost=sum(by_provider.values(), Decimal("0")),
        cost_by_provider=by_provider,
        in_quiet_hours=in_quiet_hours,
        sandbox_refused=sandbox.would_refuse(audience(channel, now)),
    )


def sending_time(by_channel: dict[str, int]) -> timedelta:
    """How long sending to these recipients takes at each provider's send rate (the lower
    of SMS_SEND_RATE and its sender's MPS, ratelimit.send_rate): providers send side by
    side, so the slowest sets the pace (quiet hours and retries come on top)."""
    per_provider: dict[str, int] = {}
    for channel, n in by_channel.items():
        provider = provider_for(channel)
        per_provider[provider] = per_provider.get(provider, 0) + n
    seconds = [n / ratelimit.send_rate(p) for p, n in per_provider.items()]
    return timedelta(seconds=max(seconds, default=0))


def costs(
    text: str,
    by_channel: dict[str, int],
    *,
    template: bool,
    prices: dict[str, ChannelPrices] | None = None,
) -> dict[str, Decimal]:
    """Projected cost per provider of text to so many recipients per channel.

    Each channel is priced at its audience's average unit price (prices_by_channel,
    or the one given): every recipient's country at its own price.
    """
    prices = prices_by_channel() if prices is None else prices
    parts = segments.count(text).segments
    by_provider: dict[str, Decimal] = {}
    for ch, n in by_channel.items():
        provider = provider_for(ch)
        whatsapp = ch == Channel.WHATSAPP
        per_message = average_unit(prices.get(ch), provider, ch, template=template and whatsapp)
        cost = per_message * n * (1 if whatsapp else parts)
        by_provider[provider] = by_provider.get(provider, Decimal("0")) + cost
    return by_provider


def average_unit(
    prices: ChannelPrices | None, provider: str, channel: str, *, template: bool = False
) -> Decimal:
    """A channel's unit price averaged over its audience's countries."""
    if prices is None or not prices.recipients:
        # Nobody there now: the price for a number of any country.
        return pricing.unit_price(provider, channel, "", template=template)
    total = prices.template_total if template else prices.unit_total
    return total / prices.recipients


def build_message(broadcast: Broadcast, subscriber: Subscriber, *, test: bool = False) -> Message:
    """The broadcast's message for one subscriber; or, with test, a test send of it
    (a message of its own kind, linked apart, never one of the broadcast's)."""
    whatsapp = subscriber.channel == Channel.WHATSAPP
    link = {"test_of": broadcast} if test else {"broadcast": broadcast}
    # verified-only in the sandbox: a number AWS would refuse is skipped, saying why.
    skipped = None if test else sandbox.skip_reason(subscriber)
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
        status=MessageStatus.SKIPPED if skipped else MessageStatus.QUEUED,
        **({"error_message": skipped} if skipped else {}),
    )
