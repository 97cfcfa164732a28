"""Which inbound messages get an automatic reply: the limits on replies that cost money.

A keyword the provider has already answered (Twilio's own STOP/START/HELP handling on
SMS) gets no second answer from the portal.

A signed webhook costs an attacker nothing and every reply costs the portal a
message, so an answer is earned, not owed:

- The answers the law requires — to STOP and to HELP — go to any number, past
  every limit (the monthly spend limit too: their kind is COMPLIANCE), but at most
  once per number per keyword per UTC day; a repeat gets no answer.
- Every other reply (the bot's, START's, PAUSE/RESUME/TIME's) is an ordinary REPLY,
  and goes only to a number the portal knows — opted in, or pending with a
  confirmation sent (one the hourly cap still holds does not count) — that is
  not muted, and within BOT_REPLIES_PER_NUMBER_PER_HOUR (an atomic counter in the
  cache). The spend limit applies to it where it is sent
  (messaging.billing.budget.admit).
- The loop breaker mutes a number whose messages look like another bot talking to
  ours: the same text BOT_LOOP_REPEATS times in a row, or more than
  BOT_LOOP_BURST_MESSAGES within BOT_LOOP_BURST_SECONDS. The trip is recorded as a
  ReplyMute, which the admin home lists until it ends.

A withheld reply loses nothing: the inbound message is recorded all the same.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache

from messaging.confirmations import hourly_cap
from messaging.inbound.keywords import Keyword
from messaging.models import Direction, Message, MessageKind, MessageStatus, ReplyMute
from smsbot.redaction import mask_phone
from subscribers.models import ConsentStatus, Subscriber

log = logging.getLogger(__name__)

LAW_REQUIRED = (Keyword.OPT_OUT, Keyword.HELP)
# Long enough for the UTC day the key names, not a dependable duration.
LAW_ANSWER_SECONDS = 2 * 24 * 3600
HOUR_SECONDS = 3600

UNKNOWN = "not answered: the number is not subscribed"
MUTED = "not answered: the number is muted by the loop breaker"
PER_HOUR = "not answered: BOT_REPLIES_PER_NUMBER_PER_HOUR reached"
ANSWERED_TODAY = "not answered: this number had this answer today (UTC)"
PROVIDER_ANSWERED = "not answered: the provider answered this keyword itself"


@dataclass(frozen=True)
class Verdict:
    kind: str | None  # the reply's MessageKind; None: no reply
    reason: str = ""  # why not, when kind is None


def decide(
    phone: str,
    subscriber: Subscriber | None,
    keyword: Keyword | None,
    now: datetime,
    *,
    answered_by_provider: bool = False,
) -> Verdict:
    """Whether this inbound message (already recorded) gets a reply, and of which kind.

    Call inside the pipeline's transaction, after the consent keyword is applied, so
    that START's subscriber is already known.
    """
    tripped = _loop(phone, now)
    if answered_by_provider:
        return Verdict(None, PROVIDER_ANSWERED)
    if keyword in LAW_REQUIRED:
        key = f"messaging:law-answer:{keyword}:{phone}:{now.astimezone(UTC):%Y-%m-%d}"
        if cache.add(key, True, LAW_ANSWER_SECONDS):
            return Verdict(MessageKind.COMPLIANCE)
        return Verdict(None, ANSWERED_TODAY)
    if not known(subscriber):
        return Verdict(None, UNKNOWN)
    if tripped or muted(phone, now):
        return Verdict(None, MUTED)
    if _count_reply(phone, now) > settings.BOT_REPLIES_PER_NUMBER_PER_HOUR:
        return Verdict(None, PER_HOUR)
    return Verdict(MessageKind.REPLY)


def known(subscriber: Subscriber | None) -> bool:
    """Opted in, or pending with a confirmation that went out (they may be answering it):
    queued or sent, not skipped nor still held by the hourly cap."""
    if subscriber is None:
        return False
    if subscriber.consent_status == ConsentStatus.OPTED_IN:
        return True
    # A confirmation the cap holds has not gone out: a flood of sign-ups must not buy
    # its numbers a conversation before the cap lets their confirmations go.
    return (
        subscriber.consent_status == ConsentStatus.PENDING
        and hourly_cap.sent_confirmations()
        .filter(phone=subscriber.phone)
        .exclude(status=MessageStatus.HELD)
        .exists()
    )


def muted(phone: str, now: datetime) -> bool:
    return ReplyMute.objects.filter(phone=phone, muted_until__gt=now).exists()


def _count_reply(phone: str, now: datetime) -> int:
    """This reply's place among the number's replies this clock hour; atomic."""
    key = f"messaging:replies:{phone}:{now.astimezone(UTC):%Y%m%d%H}"
    cache.add(key, 0, HOUR_SECONDS + 60)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between the two calls: a new hour
        cache.add(key, 1, HOUR_SECONDS + 60)
        return 1


def _loop(phone: str, now: datetime) -> bool:
    """Mute the number when its latest messages look like a loop; True when this one
    tripped it. Reads the recorded inbound messages, this one included."""
    repeats, burst = settings.BOT_LOOP_REPEATS, settings.BOT_LOOP_BURST_MESSAGES
    latest = list(
        Message.objects.filter(phone=phone, direction=Direction.INBOUND)
        .order_by("-created_at", "-id")
        .values_list("body", "created_at")[: max(repeats, burst + 1)]
    )
    reason = ""
    texts = [body.strip().casefold() for body, _ in latest[:repeats]]
    if repeats > 0 and len(texts) == repeats and len(set(texts)) == 1:
        reason = f"the same text {repeats} times in a row"
    window = timedelta(seconds=settings.BOT_LOOP_BURST_SECONDS)
    if burst > 0 and len(latest) > burst and latest[burst][1] > now - window:
        reason = f"more than {burst} messages within {settings.BOT_LOOP_BURST_SECONDS} seconds"
    if not reason or muted(phone, now):
        return False
    until = now + timedelta(minutes=settings.BOT_LOOP_MUTE_MINUTES)
    ReplyMute.objects.create(phone=phone, reason=reason[:200], muted_until=until)
    log.warning(
        "loop breaker: no automatic replies to %s for %d minutes (%s)",
        mask_phone(phone),
        settings.BOT_LOOP_MUTE_MINUTES,
        reason,
    )
    return True
