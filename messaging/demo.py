"""Demo messages, broadcasts and daily content for a first look (manage.py seed_demo).

The past week's daily broadcasts (and today's, once its time has passed: a demo
started in the afternoon would otherwise report it missed) to the demo subscribers,
as if sent through AWS SNS (SMS) and Twilio (WhatsApp), with their delivery reports
applied the way the providers' reports are (a few undelivered, actual prices), a few
conversations, an ad-hoc broadcast and daily content for the coming days: every
figure, chart and list of the dashboard has something to show. True to WhatsApp:
some WhatsApp subscribers answer the daily message each evening (EVENING_REPLY),
which keeps their 24-hour window open for the next morning's; the others have not
written, and the demo content has no approved template, so each broadcast skips
them for that reason, as the send does (dispatch.destination_skip), and the
preview counts them the same. Broadcast names
say "(demo data)"; numbers are the demo subscribers' fictional ones. Nothing
is added twice.
"""

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from messaging.billing import pricing, segments
from messaging.broadcasts import daily, due, progress
from messaging.delivery.reports import Report, apply
from messaging.models import (
    Broadcast,
    BroadcastState,
    DailyContent,
    DeliveryEvent,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
    ProviderCall,
)
from messaging.outbound import dispatch
from messaging.reports import rollups
from subscribers import demo
from subscribers.models import Channel, ConsentStatus, Subscriber

PAST_DAYS = 7
# Today and the next days have content; the day after shows as missing, with its warning.
CONTENT_DAYS = 6
# One message in this many is reported undelivered (30003: handset unreachable).
UNDELIVERED_EVERY = 11
PROVIDER_FOR = {Channel.SMS: "sns", Channel.WHATSAPP: "twilio"}
# What the providers "charged": SNS's US price per segment, Twilio's WhatsApp price.
ACTUAL_PRICE = {"sns": Decimal("0.00581"), "twilio": Decimal("0.00500")}
TIPS = [
    "Good morning! Today's tip: drink a glass of water before your coffee.",
    "Take a two-minute stretch break every hour you sit.",
    "Write down three things that went well yesterday.",
    "Call someone you have not spoken to in a while.",
    "Try a ten-minute walk after lunch today.",
    "Put your phone away for the first 30 minutes of the day.",
    "Read one page of a book before bed tonight.",
    "Plan tomorrow's top task before you finish today.",
    "Say thank you to someone who helped you this week.",
    "Spend five minutes tidying your desk.",
    "Eat one more portion of vegetables than usual today.",
    "Go to bed fifteen minutes earlier tonight.",
    "Learn one new word today and use it twice.",
]
# What a WhatsApp subscriber who answers the daily message writes back each evening, at
# this hour: the next morning's broadcast goes inside the 24-hour window it opens.
EVENING_REPLY = "Thanks!"
EVENING_HOUR = 18


def writes_back(subscriber: Subscriber) -> bool:
    """Half the WhatsApp subscribers (even numbers) answer in the evenings."""
    return subscriber.channel == Channel.WHATSAPP and int(subscriber.phone[-1]) % 2 == 0


CONVERSATION = [
    ("+13125550101", "TODAY", "Today's message: {tip}"),
    ("+13125550103", "What time do the messages come?", "Every day at 10:00 Chicago time."),
]


@receiver(demo.seeding, dispatch_uid="messaging.demo.seed")
def seed(sender: object, **kwargs: object) -> str:
    today = daily.local_today()
    # First what people wrote: the broadcasts read who wrote in the 24 hours before each.
    replies = sum(_evening_replies(today - timedelta(days=n)) for n in range(PAST_DAYS + 1, -1, -1))
    chats = _conversation(today - timedelta(days=1))
    content = sum(_daily_content(today + timedelta(days=n)) for n in range(CONTENT_DAYS))
    sent = sum(_past_daily(today - timedelta(days=n)) for n in range(PAST_DAYS, 0, -1))
    sent += _todays_daily()
    adhoc = _adhoc(today - timedelta(days=3))
    # The history is backdated: roll it up now rather than at beat's next refresh.
    rollups.refresh_recent()
    return (
        f"Demo messages: {sent} daily and {adhoc} ad-hoc broadcast messages over the past "
        f"{PAST_DAYS} days, {chats} conversation messages, {replies} WhatsApp evening "
        f"replies, {content} days of daily content."
    )


def _tip(day: date) -> str:
    return TIPS[day.toordinal() % len(TIPS)]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time of day in the send timezone, as an aware datetime."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(settings.DAILY_SEND_TIMEZONE))


def _daily_content(day: date) -> int:
    _, created = DailyContent.objects.get_or_create(date=day, defaults={"text": _tip(day)})
    return int(created)


def _past_daily(day: date, when: datetime | None = None) -> int:
    if Broadcast.objects.filter(idempotency_key=daily.key_for(day)).exists():
        return 0
    return _broadcast(
        daily.key_for(day), f"Daily {day.isoformat()} (demo data)", day, _tip(day), "", when
    )


def _todays_daily() -> int:
    """Today's send, if it is pending by the rule every screen reads (its time has passed
    and it has not begun): a demo started in the afternoon shows it sent, not missed."""
    expected = due.today()
    return _past_daily(expected.day, expected.due_at) if expected.pending() else 0


def _adhoc(day: date) -> int:
    key = "adhoc:demo-holiday-hours"
    if Broadcast.objects.filter(idempotency_key=key).exists():
        return 0
    text = "Our office is closed on Monday; daily messages continue as usual."
    return _broadcast(key, "Holiday hours (demo data)", None, text, channel=Channel.WHATSAPP)


@transaction.atomic
def _evening_replies(day: date) -> int:
    """The WhatsApp subscribers who write back answer that day's message in the evening
    (only once signed up, and only evenings already past)."""
    when = _at(day, EVENING_HOUR)
    if when > timezone.now():
        return 0
    made = 0
    for subscriber in Subscriber.objects.filter(
        channel=Channel.WHATSAPP, consent_status=ConsentStatus.OPTED_IN, opted_in_at__lt=when
    ).order_by("id"):
        if (
            not writes_back(subscriber)
            or Message.objects.filter(
                direction=Direction.INBOUND, phone=subscriber.phone, created_at=when
            ).exists()
        ):
            continue
        inbound = _inbound(subscriber, EVENING_REPLY)
        Message.objects.filter(pk=inbound.pk).update(created_at=when, updated_at=when)
        made += 1
    return made


@transaction.atomic
def _broadcast(
    key: str, name: str, day: date | None, text: str, channel: str, when: datetime | None = None
) -> int:
    """A finished broadcast to the demo subscribers opted in by then (at `when`, else 10:00
    of its day), reported as providers do."""
    when = when or _at(day or daily.local_today() - timedelta(days=3), 10)
    # Only numbers whose consent came before the send: no demo message precedes it.
    audience = Subscriber.objects.filter(
        consent_status=ConsentStatus.OPTED_IN, opted_in_at__lt=when
    ).order_by("id")
    if channel:
        audience = audience.filter(channel=channel)
    broadcast = Broadcast.objects.create(
        idempotency_key=key,
        name=name,
        date=day,
        text=text,
        channel=channel,
        state=BroadcastState.DONE,
        fanout_done=True,
        started_at=when,
        finished_at=when + timedelta(minutes=1),
    )
    messages, skipped = [], []
    for subscriber in audience:
        message = _outbound(MessageKind.BROADCAST, subscriber, text, broadcast=broadcast)
        # The send's own rule: WhatsApp outside its window, with no template, is skipped.
        if skip := dispatch.destination_skip(message, when):
            message.status, message.skip_reason, message.error_message = (
                MessageStatus.SKIPPED,
                *skip,
            )
            message.provider_message_id = None
            message.save(update_fields=["status", "skip_reason", "error_message",
                                        "provider_message_id"])  # fmt: skip
            skipped.append(message.pk)
        else:
            messages.append(message)
    _deliver(messages, when)
    Message.objects.filter(pk__in=skipped).update(created_at=when, updated_at=when)
    Broadcast.objects.filter(pk=broadcast.pk).update(created_at=when - timedelta(minutes=5))
    progress.refresh_progress(broadcast.pk)  # its counts as every screen reads them
    return len(messages)


def _outbound(
    kind: str, subscriber: Subscriber, text: str, broadcast: Broadcast | None = None
) -> Message:
    provider = PROVIDER_FOR[subscriber.channel]
    info = segments.count(text)
    return Message.objects.create(
        direction=Direction.OUTBOUND,
        kind=kind,
        channel=subscriber.channel,
        provider=provider,
        phone=subscriber.phone,
        subscriber=subscriber,
        broadcast=broadcast,
        body=text,
        status=MessageStatus.SENT,
        provider_message_id=f"demo-{uuid.uuid4().hex}",
        attempts=1,
        segments=info.segments,
        encoding=info.encoding,
        price_estimated=pricing.estimate(
            provider, subscriber.channel, text, phone=subscriber.phone
        ),
    )


def _deliver(messages: list[Message], when: datetime) -> None:
    """The provider calls and delivery reports of sent messages, dated `when`."""
    ProviderCall.objects.bulk_create(
        ProviderCall(
            message=m,
            provider=m.provider,
            operation="publish" if m.provider == "sns" else "messages.create",
            request={"to": m.phone, "body": m.body},
            response={"id": m.provider_message_id},
            http_status=200,
            outcome="ok",
            duration_ms=120 + m.pk % 80,
        )
        for m in messages
    )
    for m in messages:
        undelivered = m.pk % UNDELIVERED_EVERY == 0
        status = "undelivered" if undelivered else "delivered"
        apply(
            Report(
                provider=m.provider,
                provider_message_id=m.provider_message_id or "",
                status=status,
                dedupe_key=f"demo:{m.provider_message_id}:{status}",
                error_code="30003" if undelivered else "",
                price=ACTUAL_PRICE[m.provider] * m.segments,
                price_unit="USD",
                payload={"status": status, "demo": True},
            )
        )
        m.status = MessageStatus.UNDELIVERED if undelivered else MessageStatus.DELIVERED
    ids = [m.pk for m in messages]
    Message.objects.filter(pk__in=ids).update(created_at=when, sent_at=when, updated_at=when)
    Message.objects.filter(pk__in=ids, status=MessageStatus.DELIVERED).update(
        delivered_at=when + timedelta(seconds=4)
    )
    ProviderCall.objects.filter(message_id__in=ids).update(created_at=when)
    # Delivery reports arrive a few seconds after the send.
    DeliveryEvent.objects.filter(message_id__in=ids).update(received_at=when + timedelta(seconds=4))


@transaction.atomic
def _conversation(day: date) -> int:
    """A question and the bot's answer from two demo subscribers."""
    made = 0
    for n, (phone, question, answer) in enumerate(CONVERSATION):
        subscriber = Subscriber.objects.filter(phone=phone).first()
        if subscriber is None or Message.objects.filter(phone=phone, body=question).exists():
            continue
        when = _at(day, 11 + n, 15)
        if subscriber.opted_in_at is None or subscriber.opted_in_at >= when:
            continue  # only a subscriber already signed up by then
        inbound = _inbound(subscriber, question)
        reply = _outbound(MessageKind.REPLY, subscriber, answer.format(tip=_tip(day)))
        reply.in_reply_to = inbound
        reply.save(update_fields=["in_reply_to"])
        _deliver([reply], when + timedelta(seconds=2))
        Message.objects.filter(pk=inbound.pk).update(created_at=when, updated_at=when)
        made += 2
    return made


def _inbound(subscriber: Subscriber, body: str) -> Message:
    return Message.objects.create(
        direction=Direction.INBOUND,
        kind=MessageKind.INBOUND,
        channel=subscriber.channel,
        provider=PROVIDER_FOR[subscriber.channel],
        phone=subscriber.phone,
        subscriber=subscriber,
        body=body,
        status=MessageStatus.RECEIVED,
        provider_message_id=f"demo-{uuid.uuid4().hex}",
        price_estimated=Decimal("0"),
    )
