"""The inbound pipeline shared by every provider's webhook.

An inbound message is recorded once (its provider id is unique), then it is
a consent keyword (answered with a confirmation), a delivery-window keyword
(PAUSE, RESUME, TIME: answered with the date or time it sets) or a line of the
bot conversation (answered by the bot handler). A keyword the provider itself has
already answered (Twilio's opt-out handling on SMS) changes consent the same way but
gets no second answer. Whether an answer goes at all,
and as which kind, is reply_limits' call: replies cost money, so they have
limits. The reply is recorded as an outbound Message linked to the inbound, so
a provider's retry gets the same answer without doing anything twice.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from messaging import task_names
from messaging.billing import budget, segments
from messaging.billing.build import outbound
from messaging.inbound import attribution, keywords, reply_limits, window_keywords
from messaging.inbound.conversation import converse
from messaging.models import Direction, Message, MessageKind, MessageStatus, Provider
from smsbot import outbox
from smsbot.celery import REPLIES_QUEUE
from smsbot.redaction import mask_phone
from smsbot.storable import clean_text
from subscribers import consent
from subscribers.models import Channel, ConsentSource, ConsentStatus, Subscriber
from subscribers.phones import InvalidPhone, normalize, split_channel

log = logging.getLogger(__name__)

MAX_ID_LENGTH = 100  # Message.provider_message_id


class InvalidInbound(ValueError):
    """The request cannot be an inbound message; str(exc) says why."""


@dataclass(frozen=True)
class Inbound:
    provider: str  # Provider.TWILIO or Provider.SNS
    message_id: str  # Twilio MessageSid, SNS inboundMessageId
    sender: str  # as received: "+1312…", "whatsapp:+1312…", "(312) 555-…"
    recipient: str
    text: str
    # The keyword the provider answered itself (its own opt-out handling), which may be
    # a custom word only the provider knows: acted on, never answered a second time.
    answered_keyword: keywords.Keyword | None = None
    # What the provider said about it, kept with the consent evidence.
    evidence: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    inbound: Message
    reply: Message | None
    duplicate: bool

    @property
    def answer(self) -> str:
        """The reply text that goes back in the response; "" for none or a withheld one."""
        if self.reply is None or self.reply.status == MessageStatus.SKIPPED:
            return ""
        return self.reply.body


def receive(inbound: Inbound) -> Outcome:
    """Record the inbound once, act on it and record the reply; idempotent on message_id."""
    message_id = clean_text(inbound.message_id).strip()
    if not message_id or len(message_id) > MAX_ID_LENGTH:
        raise InvalidInbound("missing or malformed message id")
    _, whatsapp = split_channel(inbound.sender)
    channel = whatsapp or Channel.SMS
    try:
        phone = normalize(clean_text(inbound.sender))
    except InvalidPhone as exc:
        raise InvalidInbound(f"sender: {exc}") from exc
    text = clean_text(inbound.text)
    try:
        message, reply, what = _record(inbound, message_id, phone, channel, text)
    except IntegrityError:
        # The same provider id again: a retry. Every other insert in _record
        # settles its own races, so a retry is the only collision left here.
        replay = _replay(message_id)
        if replay is None:
            raise
        return replay
    log.info("inbound %s from %s: %s", inbound.provider, mask_phone(phone), what)
    return Outcome(message, reply, duplicate=False)


def _record(
    inbound: Inbound, message_id: str, phone: str, channel: str, text: str
) -> tuple[Message, Message | None, str]:
    """In one transaction: the inbound, what it does, and the reply; and what it was
    (for the log), with why it got no answer when the reply limits withheld one."""
    info = segments.count(text)
    keyword = inbound.answered_keyword or keywords.match(text)
    command = None if keyword else keywords.window_command(text)
    changes_consent = keyword is not None and keyword != keywords.Keyword.HELP
    opted_out = False
    with transaction.atomic():
        if changes_consent:
            # Consent first: it locks and returns the subscriber, so the inbound goes
            # in already linked. A retried MessageSid fails the insert below and
            # rolls the whole transaction back, this change included.
            change = _apply_keyword(keyword, inbound, phone, channel, text, message_id)
            subscriber = change.subscriber
            opted_out = change.changed and change.to_status == ConsentStatus.OPTED_OUT
            if keyword == keywords.Keyword.OPT_IN:
                window_keywords.end_pause(
                    subscriber, _source(channel), _window_evidence(inbound, text, message_id)
                )
        else:
            subscriber = Subscriber.objects.filter(phone=phone).first()
        after_broadcast = attribution.preceding_broadcast(phone, timezone.now())
        message = Message.objects.create(
            direction=Direction.INBOUND,
            kind=MessageKind.INBOUND,
            channel=channel,
            provider=inbound.provider,
            phone=phone,
            our_number=_number_texted(inbound.recipient),
            subscriber=subscriber,
            body=text,
            status=MessageStatus.RECEIVED,
            provider_message_id=message_id,
            segments=info.segments,
            encoding=info.encoding,
            after_broadcast_id=after_broadcast,
        )
        if after_broadcast is not None:
            attribution.count(after_broadcast, _caused(opted_out, command))
        verdict = reply_limits.decide(
            phone,
            subscriber,
            keyword,
            timezone.now(),
            answered_by_provider=inbound.answered_keyword is not None,
        )
        if keyword is not None:
            reply_text = keywords.reply_text(keyword)
        elif command is not None:
            evidence = _window_evidence(inbound, text, message_id)
            reply_text = window_keywords.answer(command, subscriber, _source(channel), evidence)
        else:
            status = subscriber.consent_status if subscriber else ""
            reply_text = converse(
                phone,
                channel,
                text,
                status,
                zone=subscriber.timezone if subscriber else "",
                silent=verdict.kind is None,
            ).text
        reply = (
            _record_reply(message, reply_text, verdict.kind)
            if verdict.kind and reply_text
            else None
        )
    what = keyword or (command and command.command) or "conversation"
    return message, reply, f"{what}, {verdict.reason}" if verdict.reason else what


def _replay(message_id: str) -> Outcome | None:
    message = Message.objects.filter(provider_message_id=message_id).first()
    if message is None:
        return None
    reply = message.replies.filter(direction=Direction.OUTBOUND).order_by("id").first()
    log.info("inbound %s is a retry: answering as before", message_id)
    return Outcome(message, reply, duplicate=True)


def _apply_keyword(
    keyword: keywords.Keyword,
    inbound: Inbound,
    phone: str,
    channel: str,
    text: str,
    message_id: str,
) -> consent.ConsentChange:
    to_status = (
        ConsentStatus.OPTED_OUT if keyword == keywords.Keyword.OPT_OUT else ConsentStatus.OPTED_IN
    )
    source = _source(channel)
    # The message from the phone itself is the consent, and its proof.
    evidence = {
        "text": text,
        "message_id": message_id,
        "from": clean_text(inbound.sender),
        "to": clean_text(inbound.recipient),
        "provider": inbound.provider,
        **inbound.evidence,
    }
    return consent.change(phone, to_status, source, evidence, channel=channel)


def _caused(opted_out: bool, command: keywords.WindowCommand | None) -> str:
    """What an inbound counts as for the broadcast it followed: a STOP only when it
    opted the number out (a repeated STOP is a reply), a PAUSE only when understood."""
    if opted_out:
        return attribution.Caused.STOP
    if command is not None and command.command == keywords.Window.PAUSE and command.valid:
        return attribution.Caused.PAUSE
    return attribution.Caused.REPLY


def _source(channel: str) -> str:
    return (
        ConsentSource.WHATSAPP_KEYWORD if channel == Channel.WHATSAPP else ConsentSource.SMS_KEYWORD
    )


def _window_evidence(inbound: Inbound, text: str, message_id: str) -> dict[str, str]:
    """The message itself, without the sender's number: a delivery window is no legal
    record, so it keeps nothing erasure would have to find."""
    return {
        "text": text,
        "message_id": message_id,
        "to": clean_text(inbound.recipient),
        "provider": inbound.provider,
    }


def _number_texted(recipient: str) -> str:
    """The number the person texted, E.164 ("" when the provider gave none we can read)."""
    try:
        return normalize(split_channel(clean_text(recipient))[0])
    except InvalidPhone:
        return ""


def _reply_provider(inbound: Message) -> str:
    """Who sends the answer: Twilio in its TwiML; a text that came through AWS's two-way
    topic is answered by the AWS SMS provider in use (End User Messaging SMS when that is
    SMS_PROVIDER, so it leaves from the number texted as an OriginationIdentity), else SNS.
    """
    if inbound.provider == Provider.SNS and settings.SMS_PROVIDER == Provider.AWS_SMS:
        return Provider.AWS_SMS
    return inbound.provider


def _record_reply(inbound: Message, text: str, kind: str) -> Message:
    """The answer as an outbound Message: sent in the TwiML, or queued for AWS.

    It carries the number the person texted (our_number), which the provider sends
    from when it is one of the portal's origination numbers.
    A TwiML answer goes to Twilio with the response, so the spend limit is applied
    here (budget.admit, the rule dispatch applies to a queued reply): past it, the
    reply is recorded as skipped and the response is empty.
    """
    twiml = inbound.provider == Provider.TWILIO
    reply = outbound(
        kind=kind,
        channel=inbound.channel,
        provider=_reply_provider(inbound),
        phone=inbound.phone,
        our_number=inbound.our_number,
        body=text,
        subscriber=inbound.subscriber,
        in_reply_to=inbound,
        status=MessageStatus.SENT if twiml else MessageStatus.QUEUED,
        sent_at=timezone.now() if twiml else None,
    )
    if twiml and not budget.admit(reply):
        reply.status, reply.sent_at, reply.error_message = (
            MessageStatus.SKIPPED,
            None,
            budget.OVER_LIMIT,
        )
    reply.save()
    if not twiml:
        outbox.enqueue(task_names.SEND_MESSAGE, reply.id, queue=REPLIES_QUEUE)
    return reply
