"""Sending one message: claim, check, call the provider, record the answer.

At most once: a worker owns a message only after moving it queued → sending
with a conditional UPDATE that exactly one claimer can win. Consent is read
again under that claim, so a STOP that landed a moment ago still stops the
send. Whatever happens after the claim, the message never goes back to the
provider unless the provider itself said it was not sent (a retryable error):
a timeout after the request went out, an unexpected error or a worker that
died mid-call leave it "needs review" for an operator. It goes to the other
provider (SMS_FAILOVER) only after an error proving the first did not send it,
or before its first attempt while the first cools down (messaging.outbound.failover).

A broadcast message is not sent inside its recipient's quiet hours, checked
just before the claim: it is held (left queued until they end, when the
minute check publishes it again), never dropped. Replies are exempt.

The monthly spend limit is budget.admit's rule: past it a broadcast message
pauses its broadcast and a reply is skipped; STOP and HELP answers still go.
"""

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from messaging.billing import budget
from messaging.broadcasts import audience, states
from messaging.delivery import actions
from messaging.delivery.error_codes import Action, describe
from messaging.models import (
    Broadcast,
    BroadcastState,
    Message,
    MessageKind,
    MessageStatus,
    ProviderCall,
)
from messaging.outbound import (
    config_errors,
    failover,
    metrics,
    provider_errors,
    ratelimit,
    statements,
)
from messaging.outcomes import progress_soon
from messaging.providers.base import ErrorKind, ProviderError, Sent
from messaging.providers.registry import get
from messaging.skips import SkipReason
from smsbot.redaction import redact, redact_data
from subscribers import localtime, phones, sendable
from subscribers.models import Channel, ConsentStatus, Subscriber
from subscribers.sendable import Refusal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    status: str
    # Seconds until the send task should run again; None: nothing more to do.
    retry_in: float | None = None


def loaded(messages: QuerySet[Message]) -> QuerySet[Message]:
    """Messages as the senders read them: with the broadcast, and the recipient's zone
    for the quiet-hours check (recipient_timezone; None without a subscriber)."""
    return messages.select_related("broadcast").annotate(
        recipient_timezone=F("subscriber__timezone")
    )


def send(message_id: int) -> Outcome:
    """Try to send one queued message; the task retries when retry_in is set."""
    message = loaded(Message.objects.filter(pk=message_id)).first()
    if message is None or message.status != MessageStatus.QUEUED:
        return Outcome("not-queued")
    now = timezone.now()
    if message.next_attempt_at and message.next_attempt_at > now:
        return Outcome("early", (message.next_attempt_at - now).total_seconds())
    held = held_by_broadcast(message) or held_by_quiet_hours(message, now)
    if held:
        return Outcome(held)

    if not budget.admit(message):
        if message.kind == MessageKind.BROADCAST:
            states.pause(message.broadcast, "budget")
            return Outcome("budget")
        finish(
            message,
            MessageStatus.SKIPPED,
            error_message=budget.OVER_LIMIT,
            skip=SkipReason.OVER_BUDGET,
            from_status=MessageStatus.QUEUED,
        )
        return Outcome(MessageStatus.SKIPPED)
    return send_reserved(message)


def send_reserved(message: Message) -> Outcome:
    """Rate, claim, consent, provider: for a message whose cost is already counted."""
    return prepare(message) or record([attempt(message)])[0]


def prepare(message: Message) -> Outcome | None:
    """Rate, claim and consent; None when this worker now holds the claim and the
    message may go to the provider, else why it does not go (now)."""
    bulk = message.kind == MessageKind.BROADCAST
    cost = message.price_estimated
    if failover.before_claim(message):
        budget.release(cost)  # counted again at the new provider's price when it goes
        return Outcome(failover.MOVED, 0.0)
    try:
        ratelimit.acquire(message.provider, message.segments, bulk=bulk)
    except ratelimit.RateLimited as exc:
        budget.release(cost)
        return Outcome("rate-limited", exc.retry_in)
    now = timezone.now()  # after the wait for a rate token: the clock the claim reads
    if held_by_quiet_hours(message, now):
        budget.release(cost)
        return Outcome(QUIET_HOURS)
    # One the preview counted out takes the slow path, to be skipped saying so.
    if bulk and destination_skip(message, now) is None and claim_if_sendable(message, now):
        return None
    if bulk and broadcast_stopped(message):
        budget.release(cost)
        return Outcome("paused")  # stays queued; resume publishes it again
    # The slow path: claim, then say why it must not go (or send a non-bulk message).
    if not claim(message):
        budget.release(cost)
        return Outcome("claimed-elsewhere")
    skip = skip_reason(message)
    if skip:
        budget.release(cost)
        finish(message, MessageStatus.SKIPPED, error_message=skip[1], skip=skip[0])
        return Outcome(MessageStatus.SKIPPED)
    if bulk:
        # The zone read before the claim may be out of date: the fresh one decides.
        until = localtime.held_until(message.subscriber.timezone, now)
        if until:
            budget.release(cost)
            hold([message.pk], until, claimed=True)
            return Outcome(QUIET_HOURS)
    return None


def broadcast_stopped(message: Message) -> bool:
    """True when the message's broadcast was paused or cancelled since it was read."""
    return (
        bool(message.broadcast_id)
        and not Broadcast.objects.filter(
            pk=message.broadcast_id, state=BroadcastState.SENDING
        ).exists()
    )


def claim(message: Message) -> bool:
    """queued → sending; True for the one worker whose update matched."""
    now = timezone.now()
    won = Message.objects.filter(pk=message.pk, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SENDING, attempts=F("attempts") + 1, updated_at=now
    )
    return _claimed(message, bool(won), now)


def claim_if_sendable(message: Message, now: datetime) -> bool:
    """Claim a broadcast message only if its subscriber may receive it, in one statement.

    The consent and pause tests run inside the claiming UPDATE, so they see the
    state at the moment of the claim. False means taken elsewhere or not
    sendable: the caller finds out which with claim() and skip_reason().
    """
    if not message.subscriber_id:
        return False
    won = statements.claim_sendable(
        message.pk, now, message.recipient_timezone, email=message.channel == Channel.EMAIL
    )
    return _claimed(message, won, now)


def _claimed(message: Message, won: bool, now: datetime) -> bool:
    if won:
        # Only the claimer changes a message while it is queued → sending, so the
        # copy read just before is current apart from what the claim itself set.
        message.status, message.attempts, message.updated_at = (
            MessageStatus.SENDING,
            message.attempts + 1,
            now,
        )
        # Consent must be read after the claim, not from anything cached before it.
        subscriber_field = Message.subscriber.field
        if subscriber_field.is_cached(message):
            subscriber_field.delete_cached_value(message)
    return won


def skip_reason(message: Message) -> tuple[SkipReason, str] | None:
    """Why this claimed message must not go out (the reason and its words), read fresh
    from the database; None when it may go. An e-mail is judged by the rule's e-mail
    form: the address's own consent, and a STOP from the number ends it too."""
    if message.subscriber_id:
        subscriber = message.subscriber  # loaded now: claim() dropped any cached copy
    else:
        subscriber = Subscriber.objects.filter(phone=message.phone).first()
    email = message.channel == Channel.EMAIL
    # A pause holds broadcasts only; a reply or a confirmation still goes out.
    pause = message.kind == MessageKind.BROADCAST
    refused = sendable.refusal(subscriber, timezone.now(), pause=pause, email=email)
    if refused == Refusal.UNDELIVERABLE:
        if email:
            text = f"address is undeliverable: {subscriber.email_undeliverable_reason}"
        else:
            text = f"number is undeliverable: {subscriber.undeliverable_reason}"
        return SkipReason.UNDELIVERABLE, text.strip(": ")
    if refused == Refusal.ERASED:
        return SkipReason.ERASED, "subscriber erased"
    if message.kind == MessageKind.COMPLIANCE:
        return None  # the law requires STOP/HELP confirmations whatever the consent
    if email and (subscriber is None or not subscriber.email):
        return SkipReason.PENDING, "no e-mail address"
    status = ""
    if subscriber is not None:
        status = subscriber.email_status if email else subscriber.consent_status
    if status == ConsentStatus.PENDING and message.kind in (
        MessageKind.CONFIRMATION,
        MessageKind.REPLY,
    ):
        # The double opt-in question goes to a number (or address) that has not
        # confirmed yet, and so may an answer to its own message (reply_limits let
        # only such numbers in).
        return None
    if email and message.kind == MessageKind.CONFIRMATION and status == ConsentStatus.OPTED_IN:
        # A link confirms a pending address: one confirmed already gets no second link.
        return SkipReason.ALREADY_CONFIRMED, "e-mail consent is opted_in, not pending"
    if refused == Refusal.NOT_OPTED_IN:
        reason = SkipReason.OPTED_OUT if status == ConsentStatus.OPTED_OUT else SkipReason.PENDING
        consent = "e-mail consent" if email else "consent"
        return reason, f"{consent} is {status or 'unknown'}, not opted_in"
    if refused == Refusal.NUMBER_OPTED_OUT:
        return SkipReason.OPTED_OUT, "the number opted out: the subscription has ended"
    if refused == Refusal.PAUSED:
        restart = localtime.local_date(subscriber.paused_until, subscriber.timezone)
        return SkipReason.PAUSED, f"subscriber paused: messages start again on {restart}"
    if message.kind == MessageKind.BROADCAST:
        return destination_skip(message, timezone.now())
    return None


def destination_skip(message: Message, now: datetime) -> tuple[SkipReason, str] | None:
    """A broadcast message the preview counted out by its destination: a number of a
    refused type, or WhatsApp outside its 24-hour window with no approved template (which
    WhatsApp refuses: Twilio 63016). Skipped at its send, for the preview's reason."""
    if message.channel == Channel.EMAIL:
        return None
    if why := phones.refused_destination(message.phone):
        return SkipReason.REFUSED_NUMBER, why
    if (
        message.channel == Channel.WHATSAPP
        and not message.template_sid
        and not audience.wrote_in_window(message.phone, now).exists()
    ):
        return SkipReason.WHATSAPP_WINDOW, "no message from the number in 24 hours, no template"
    return None


def counted_out(message: Message, now: datetime) -> bool:
    """A message the send will skip by its destination: it is skipped now, not first held
    for quiet hours, as the preview counts it (audience.skip_split asks the destination
    before the zone)."""
    return destination_skip(message, now) is not None


def held_by_broadcast(message: Message) -> str:
    broadcast = message.broadcast
    if broadcast is None:
        return ""
    if broadcast.state == BroadcastState.CANCELLED:
        finish(
            message,
            MessageStatus.SKIPPED,
            error_message="broadcast cancelled",
            skip=SkipReason.CANCELLED,
            from_status=MessageStatus.QUEUED,
        )
        return "cancelled"
    if broadcast.state != BroadcastState.SENDING:
        return "paused"  # stays queued; resume publishes it again
    return ""


QUIET_HOURS = "quiet-hours"


def held_by_quiet_hours(message: Message, now: datetime) -> str:
    """Hold a broadcast message whose recipient's clock is inside the quiet hours."""
    if message.kind != MessageKind.BROADCAST:
        return ""  # replies to the subscriber's own message go at once
    until = localtime.held_until(message.recipient_timezone, now)
    if until is None or counted_out(message, now):
        return ""
    hold([message.pk], until)
    return QUIET_HOURS


def hold(message_ids: list[int], until: datetime, *, claimed: bool = False) -> None:
    """Keep messages queued until their recipient's quiet hours end (the minute check
    publishes them then); a claimed one is handed back, its attempt not counted."""
    fields: dict[str, object] = {"next_attempt_at": until, "updated_at": timezone.now()}
    if claimed:
        fields.update(status=MessageStatus.QUEUED, attempts=F("attempts") - 1)
    from_status = MessageStatus.SENDING if claimed else MessageStatus.QUEUED
    Message.objects.filter(pk__in=message_ids, status=from_status).update(**fields)


@dataclass(frozen=True)
class Attempt:
    """A claimed message's provider call, made but not yet recorded."""

    message: Message
    duration_ms: int
    answer: Sent | ProviderError
    answered_at: datetime

    @property
    def sent(self) -> Sent | None:
        return self.answer if isinstance(self.answer, Sent) else None


def attempt(message: Message) -> Attempt:
    """Call the provider for a claimed message; touches no database."""
    started = time.monotonic()
    try:
        sent = get(message.provider).send(message)
    except ProviderError as exc:
        error = exc
    except Exception as exc:  # the request may have gone out: never resend
        log.exception("unexpected error sending message %s", message.pk)
        error = ProviderError(
            ErrorKind.AMBIGUOUS,
            "unexpected",
            f"{type(exc).__name__}: {exc}",
            response={"error": repr(exc)},
        )
    else:
        return Attempt(message, _ms_since(started), sent, timezone.now())
    return Attempt(message, _ms_since(started), error, timezone.now())


def record(attempts: list[Attempt]) -> list[Outcome]:
    """Write what the provider answered, in the attempts' order.

    The call records and every sent message go in one transaction, however many
    there are: a batch of sends costs one commit, not one each. Errors are rare
    and each is acted on in its own transaction.
    """
    sent = [a for a in attempts if a.sent is not None]
    with transaction.atomic():
        ProviderCall.objects.bulk_create([_call_record(a) for a in attempts])
        _record_sent(sent)
    outcomes = []
    for a in attempts:
        if a.sent is not None:
            cost = a.sent.price if a.sent.price is not None else a.message.price_estimated
            metrics.message_sent(a.message.provider, a.message.channel, cost)
            outcomes.append(Outcome(MessageStatus.SENT))
            continue
        assert isinstance(a.answer, ProviderError)
        with transaction.atomic():
            outcome = _on_error(a.message, a.answer)
        if outcome.status == MessageStatus.FAILED:
            metrics.message_failed(a.message.provider, a.message.channel)
        outcomes.append(outcome)
    for broadcast_id in {a.message.broadcast_id for a in sent}:
        progress_soon(broadcast_id)
    return outcomes


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _record_sent(attempts: list[Attempt]) -> None:
    if not attempts:
        return
    now = timezone.now()
    rows = []
    for a in attempts:
        assert a.sent is not None
        message = a.message
        message.status = MessageStatus.SENT
        message.provider_message_id = a.sent.provider_message_id
        message.sent_at, message.updated_at = a.answered_at, now
        if a.sent.price is not None:
            message.price_actual = a.sent.price
        message.error_code = message.error_message = ""
        message.next_attempt_at = None
        rows.append((message.pk, message.provider_message_id, a.sent.price, a.answered_at))
    statements.mark_sent(rows, now)


def _on_error(message: Message, exc: ProviderError) -> Outcome:
    log.warning(
        "send of message %s failed (%s %s): %s", message.pk, exc.kind, exc.code, redact(exc.message)
    )
    cost = message.price_estimated  # before a failover re-prices it
    if failover.after_error(message, exc):
        budget.release(cost)
        return Outcome(failover.MOVED, 0.0)
    if exc.kind == ErrorKind.AMBIGUOUS:
        finish(message, MessageStatus.NEEDS_REVIEW, exc)
        return Outcome(MessageStatus.NEEDS_REVIEW)
    budget.release(cost)
    if exc.kind == ErrorKind.RETRYABLE:
        if message.attempts >= settings.SEND_MAX_ATTEMPTS:
            finish(message, MessageStatus.FAILED, exc)
            return Outcome(MessageStatus.FAILED)
        delay = backoff(message.attempts)
        finish(message, MessageStatus.QUEUED, exc, next_attempt_in=delay)
        return Outcome("retry", delay)
    known = describe(exc.code)
    action = known.action if known else Action.NONE
    if action == Action.RESEND_AS_TEMPLATE and provider_errors.requeue_as_template(
        message, exc.code, exc.message
    ):
        return Outcome("resend-as-template", 0.0)
    if action == Action.REFUSED_DESTINATION:
        # Not sent and not billed: skipped for the reason the preview names.
        finish(message, MessageStatus.SKIPPED, exc, skip=SkipReason.REFUSED_NUMBER)
        return Outcome(MessageStatus.SKIPPED)
    finish(message, MessageStatus.FAILED, exc)
    if action in (Action.OPT_OUT, Action.PROVIDER_OPT_OUT, Action.UNDELIVERABLE):
        actions.act_on_error(
            phone=message.phone,
            code=exc.code,
            provider=message.provider,
            message_id=message.pk,
            text=redact(exc.message),
        )
    elif action == Action.REGISTRATION and known is not None:
        message.error_code = exc.code  # counted among the broadcast's, as written above
        provider_errors.registration_error(message, known, exc.message)
    elif action == Action.CONFIGURATION or exc.kind == ErrorKind.CONFIG:
        record_configuration_error(message, exc)
    return Outcome(MessageStatus.FAILED)


def backoff(attempts: int) -> float:
    """Exponential back-off with jitter: base × 2^(attempts-1), between half and all of it."""
    ceiling = min(
        settings.SEND_RETRY_MAX_SECONDS, settings.SEND_RETRY_BASE_SECONDS * 2 ** (attempts - 1)
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def finish(
    message: Message,
    status: str,
    exc: ProviderError | None = None,
    *,
    error_message: str = "",
    skip: str = "",
    next_attempt_in: float | None = None,
    from_status: str = MessageStatus.SENDING,
) -> None:
    now = timezone.now()
    fields: dict[str, object] = {"status": status, "updated_at": now}
    if exc is not None:
        fields.update(error_code=exc.code[:20], error_message=redact(exc.message)[:2000])
    elif error_message:
        fields["error_message"] = error_message
    if skip:
        fields["skip_reason"] = skip
    fields["next_attempt_at"] = (
        now + timedelta(seconds=next_attempt_in) if next_attempt_in is not None else None
    )
    Message.objects.filter(pk=message.pk, status=from_status).update(**fields)
    progress_soon(message.broadcast_id)


def _call_record(a: Attempt) -> ProviderCall:
    answer = a.answer
    # Providers redact already; a second pass costs little and guards against a slip.
    return ProviderCall(
        message=a.message,
        provider=a.message.provider,
        operation="send",
        request=redact_data(answer.request),
        response=redact_data(answer.response),
        http_status=answer.http_status,
        outcome=str(answer.kind) if isinstance(answer, ProviderError) else "sent",
        duration_ms=a.duration_ms,
    )


def record_configuration_error(message: Message, exc: ProviderError) -> None:
    """Shown as a banner until an operator dismisses it; the broadcast pauses."""
    config_errors.remember(message.provider, exc.code, exc.message)
    log.error(
        "provider configuration error %s %s: every send will fail", message.provider, exc.code
    )
    if message.broadcast is not None:
        states.pause(message.broadcast, f"configuration error {exc.code}")
