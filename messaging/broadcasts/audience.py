"""Who a broadcast goes to, what it would cost, and its message for one subscriber."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Substr
from django.utils import timezone

from messaging.billing import budget, pricing, segments
from messaging.billing.build import outbound
from messaging.broadcasts import sandbox
from messaging.models import (
    Broadcast,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
    Provider,
)
from messaging.skips import WHATSAPP_WINDOW, SkipReason
from subscribers import localtime, phones
from subscribers.models import Channel, ConsentStatus, Subscriber
from subscribers.sendable import Refusal, refusal_column, sendable

log = logging.getLogger(__name__)

# "+1312", "+4420": the country code and the digits after it that pick the country.
PRICE_GROUP_DIGITS = 5


def provider_for(channel: str) -> str:
    """AWS cannot reach WhatsApp: WhatsApp always goes through Twilio; e-mail goes
    through SES."""
    if channel == Channel.EMAIL:
        return Provider.SES
    if channel == Channel.WHATSAPP and settings.SMS_PROVIDER in (Provider.SNS, Provider.AWS_SMS):
        return Provider.TWILIO
    return settings.SMS_PROVIDER


PHONE_CHANNELS = (Channel.SMS, Channel.WHATSAPP)


def email_on() -> bool:
    """E-mail is off without a sender (EMAIL_FROM)."""
    return bool(settings.EMAIL_FROM)


def fallback_on() -> bool:
    return settings.FALLBACK_CHANNEL == Channel.EMAIL and email_on()


def audience(channel: str = "", at: datetime | None = None) -> QuerySet[Subscriber]:
    """Who a broadcast goes to at a moment (now by default): subscribers.sendable's rule
    (index-backed) on the address the message goes by (by_email()), on its channel.
    skip_split() says why the others are left out, by the same rule."""
    subscribers = Subscriber.objects.filter(may_receive(at or timezone.now()))
    return subscribers.filter(channel=channel) if channel else subscribers


def by_email() -> Q:
    """The subscribers whose broadcast goes by e-mail: the e-mail channel's, and with
    the fallback on, those with an address whose opted-in number became undeliverable
    (the rule then asks the address; without one the number's refusal stands).
    daily_channel() says the same of one subscriber."""
    email = Q(channel=Channel.EMAIL)
    if fallback_on():
        lost_number = Q(consent_status=ConsentStatus.OPTED_IN, undeliverable=True)
        email |= Q(channel__in=PHONE_CHANNELS) & lost_number & ~Q(email="")
    return email


def daily_channel(subscriber: Subscriber) -> tuple[str, bool]:
    """The channel a subscriber's broadcast message goes by, and whether it is the
    e-mail fallback for an undeliverable number (by_email() on one row)."""
    if (
        subscriber.channel in PHONE_CHANNELS
        and subscriber.consent_status == ConsentStatus.OPTED_IN
        and subscriber.undeliverable
        and subscriber.email
        and fallback_on()
    ):
        return Channel.EMAIL, True
    return subscriber.channel, False


def may_receive(at: datetime) -> Q:
    """sendable()'s rule, by number or by e-mail as by_email() routes each subscriber;
    nobody of the e-mail channel while e-mail is off (EMAIL_FROM unset)."""
    email = by_email()
    if not email_on():
        return ~email & sendable(at)
    return (~email & sendable(at)) | (email & sendable(at, email=True))


def daily_channel_column() -> Case:
    """daily_channel() as a column: the channel each subscriber's message goes by."""
    return Case(When(by_email(), then=Value(Channel.EMAIL.value)), default=F("channel"))


def left_out(refused: str, consent_status: str) -> SkipReason | None:
    """The skip reason of a subscriber the audience leaves out (subscribers.sendable's
    refusal, with "not opted in" told apart as opted out or pending by the consent of
    the address the message goes by); None: taken."""
    if not refused:
        return None
    if refused == Refusal.NUMBER_OPTED_OUT:
        return SkipReason.OPTED_OUT
    if refused == Refusal.NOT_OPTED_IN:
        if consent_status == ConsentStatus.OPTED_OUT:
            return SkipReason.OPTED_OUT
        return SkipReason.PENDING
    return SkipReason(refused)


@dataclass(frozen=True)
class Skip:
    """So many subscribers a send now would skip (or hold) for one reason; until: the
    latest pause end, or the latest end of quiet hours, when the reason has one."""

    reason: SkipReason
    count: int
    until: datetime | None = None

    @property
    def label(self) -> str:
        return str(self.reason.label)


@dataclass(frozen=True)
class Split:
    """Everyone (not erased) of a channel: the audience (sendable, by channel), those
    it leaves out and those in it held back or refused, by reason."""

    sendable: int
    skips: tuple[Skip, ...]
    by_channel: dict[str, int] = field(default_factory=dict)
    quiet_by_channel: dict[str, int] = field(default_factory=dict)

    def count(self, reason: SkipReason) -> int:
        return sum(s.count for s in self.skips if s.reason == reason)

    def left_out(self) -> dict[str, int]:
        """The reasons that keep subscribers out of the fan-out, as a broadcast keeps them."""
        left = (SkipReason.OPTED_OUT, SkipReason.PENDING, SkipReason.PAUSED)
        left += (SkipReason.UNDELIVERABLE,)
        return {s.reason.value: s.count for s in self.skips if s.reason in left}


def skip_split(channel: str = "", *, template: bool = False, now: datetime | None = None) -> Split:
    """Everyone of the channel, split by SkipReason, in one grouped query.

    The audience rule (left_out) gives opted out, pending, undeliverable and paused;
    the rest is read per group: quiet hours from the zone, the WhatsApp window from
    whether the number wrote in the last 24 hours (only without a template), and
    the country or number type from one number of the group's first digits and the
    SMS sandbox's unverified destinations (broadcasts.sandbox) from the number (not
    for e-mail, grouped by the channel the message goes by: daily_channel_column).
    Over budget is what the month's remaining budget cannot pay for (preview()). The
    last five stay in the audience (their messages are made, then held or refused).
    """
    now = now or timezone.now()
    people = Subscriber.objects.filter(erased_at__isnull=True)
    if not email_on():
        # Nothing is sent by e-mail without a sender: not part of any audience.
        people = people.exclude(channel=Channel.EMAIL)
    if channel:
        people = people.filter(channel=channel)
    wrote = Value(True)
    if not template:
        wrote = Case(
            When(channel=Channel.WHATSAPP, then=Exists(wrote_in_window(OuterRef("phone"), now))),
            default=Value(True),
        )
    email = by_email()
    rows = (
        people.annotate(
            refused=Case(
                When(email, then=refusal_column(now, email=True)), default=refusal_column(now)
            ),
            status=Case(When(email, then=F("email_status")), default=F("consent_status")),
            route=daily_channel_column(),
            prefix=Substr("phone", 1, PRICE_GROUP_DIGITS),
            wrote=wrote,
            unverified=sandbox.unverified_column(),
        )
        .values_list("refused", "status", "route", "timezone", "prefix", "wrote", "unverified")
        .annotate(n=Count("id"), sample=Min("phone"), until=Max("paused_until"))
        .order_by()
    )
    found: dict[SkipReason, list] = {}

    def add(reason: SkipReason, n: int, until: datetime | None) -> None:
        row = found.setdefault(reason, [0, None])
        row[0] += n
        if until and (row[1] is None or until > row[1]):
            row[1] = until

    by_channel: dict[str, int] = {}
    quiet_by_channel: dict[str, int] = {}
    for refused, status, ch, zone, _prefix, wrote_in, unverified, n, sample, until in rows:
        if reason := left_out(refused, status):
            add(reason, n, until if reason == SkipReason.PAUSED else None)
            continue
        # In the audience (a message is made), but it will not reach them now.
        by_channel[ch] = by_channel.get(ch, 0) + n
        if ch != Channel.EMAIL and unverified:
            add(SkipReason.SANDBOX_UNVERIFIED, n, None)
        elif ch != Channel.EMAIL and phones.refused_destination(sample):
            add(SkipReason.REFUSED_NUMBER, n, None)
        elif ch == Channel.WHATSAPP and not wrote_in:
            add(SkipReason.WHATSAPP_WINDOW, n, None)
        elif quiet_until := localtime.held_until(zone, now):
            add(SkipReason.QUIET_HOURS, n, quiet_until)
            quiet_by_channel[ch] = quiet_by_channel.get(ch, 0) + n
    skips = tuple(Skip(reason, *found[reason]) for reason in SkipReason if reason in found)
    by_channel = dict(sorted(by_channel.items()))
    return Split(sum(by_channel.values()), skips, by_channel, quiet_by_channel)


def wrote_in_window(phone: str | OuterRef, now: datetime) -> QuerySet[Message]:
    """The number's messages to us inside WhatsApp's 24-hour window: without one, only an
    approved template reaches it. The preview asks it of everyone (phone an OuterRef),
    the send of one message (messaging.outbound.dispatch). Bounded on both sides, so a
    moment past (the demo's history) reads the window as it was then."""
    return Message.objects.filter(
        direction=Direction.INBOUND,
        phone=phone,
        created_at__gt=now - WHATSAPP_WINDOW,
        created_at__lte=now,
    )


def over_budget(recipients: int, cost: Decimal) -> int:
    """How many of recipients the month's remaining budget cannot pay for (at the
    average cost of one)."""
    if not recipients or cost <= 0:
        return 0
    left = max(Decimal("0"), budget.limit() - budget.status().spent)
    if cost <= left:
        return 0
    each = cost / recipients
    return min(recipients, int(((cost - left) / each).to_integral_value(rounding="ROUND_CEILING")))


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
    # Who a send now leaves out or holds back, by reason (skip_split).
    skips: tuple["Skip", ...] = ()

    @property
    def quiet_hours_end(self) -> datetime | None:
        """When the last recipient inside quiet hours gets out of them; None if nobody is."""
        return next((s.until for s in self.skips if s.reason == SkipReason.QUIET_HOURS), None)


@dataclass(frozen=True)
class ChannelPrices:
    """A channel's audience and what one message to each of them costs, summed."""

    recipients: int
    unit_total: Decimal  # per SMS segment (or WhatsApp message), summed over recipients
    template_total: Decimal  # the same for a WhatsApp template


def prices_by_channel(channel: str = "") -> dict[str, ChannelPrices]:
    """Per channel (the one the message goes by), the audience and its unit prices
    summed over the recipients' countries.

    Numbers sharing their first digits (country code and area code) share a country:
    each such group is priced once, by one of its numbers (one grouped query).
    """
    groups = (
        audience(channel)
        .annotate(route=daily_channel_column(), prefix=Substr("phone", 1, PRICE_GROUP_DIGITS))
        .values_list("route", "prefix")
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


def preview(
    text: str, channel: str = "", *, template: bool = False, at: datetime | None = None
) -> Preview:
    """Recipients, segments and projected cost of sending text now (or at a coming
    moment), and who would be skipped or held and why (skip_split: one grouped query)."""
    info = segments.count(text)
    split = skip_split(channel, template=template, now=at)
    prices = prices_by_channel(channel)
    by_provider = costs(text, split.by_channel, template=template, prices=prices)
    projected = sum(by_provider.values(), Decimal("0"))
    skips = split.skips
    over = over_budget(split.sendable, projected)
    if over:
        skips += (Skip(SkipReason.OVER_BUDGET, over),)
    return Preview(
        recipients=split.sendable,
        by_channel=split.by_channel,
        encoding=info.encoding,
        segments=info.segments,
        warnings=info.warnings,
        projected_cost=projected,
        cost_by_provider=by_provider,
        in_quiet_hours=split.count(SkipReason.QUIET_HOURS),
        skips=skips,
    )


def sending_time(by_channel: dict[str, int], rate: Callable[[str], float]) -> timedelta:
    """How long sending to these recipients takes at each provider's send rate (rate: the
    sender's pace, messaging.outbound.ratelimit.send_rate, which this package may not
    import): providers send side by side, so the slowest sets the pace (quiet hours and
    retries come on top)."""
    per_provider: dict[str, int] = {}
    for channel, n in by_channel.items():
        provider = provider_for(channel)
        per_provider[provider] = per_provider.get(provider, 0) + n
    seconds = [n / rate(p) for p, n in per_provider.items()]
    return timedelta(seconds=max(seconds, default=0))


def entering_quiet_hours(channel: str, start: datetime, end: datetime) -> int:
    """Recipients outside their quiet hours when a send starts whose quiet hours begin
    before it ends (one query grouped by zone): what is not sent to them by then waits
    for the morning, so the warning says so before the send."""
    if localtime.quiet_hours() is None or end <= start:
        return 0
    zones = audience(channel, at=start).values_list("timezone").annotate(n=Count("id"))
    return sum(
        n for zone, n in zones.order_by() if localtime.quiet_begins_between(zone, start, end)
    )


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
        cost = per_message * n * (1 if ch in pricing.PER_MESSAGE else parts)
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
    channel, fallback = daily_channel(subscriber)
    whatsapp = channel == Channel.WHATSAPP
    link = {"test_of": broadcast} if test else {"broadcast": broadcast}
    # verified-only in the sandbox: a number AWS would refuse is skipped, saying why.
    skipped = None if test else sandbox.skip_reason(subscriber)
    return outbound(
        kind=MessageKind.TEST if test else MessageKind.BROADCAST,
        channel=channel,
        provider=provider_for(channel),
        fallback=fallback,
        phone=subscriber.phone,
        body=broadcast.text,
        template=whatsapp and bool(broadcast.whatsapp_content_sid),
        subscriber=subscriber,
        **link,
        # The provider needs the template for WhatsApp outside the 24-hour window.
        content_sid=broadcast.whatsapp_content_sid if whatsapp else "",
        content_variables=broadcast.whatsapp_content_variables if whatsapp else {},
        status=MessageStatus.SKIPPED if skipped else MessageStatus.QUEUED,
        **(
            {"error_message": skipped, "skip_reason": SkipReason.SANDBOX_UNVERIFIED}
            if skipped
            else {}
        ),
    )
