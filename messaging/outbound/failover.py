"""SMS provider failover (SMS_FAILOVER): the other provider, only for what provably was not sent.

A message moves from SMS_PROVIDER to SMS_FAILOVER in two cases, each a
conditional UPDATE that only the worker holding the message can win, which sets
the provider, the price estimate at the new provider's prices and hands the
message back to the queue; the usual claim then sends it, consent read again,
at the new provider's rate (the limiter is keyed by provider). The provider
call log keeps both attempts.

- After an error that proves the first provider did not send it
  (ProviderError.provably_unsent, set by each provider module from its own
  exceptions): at once when the connection failed before any byte went out;
  when throttled or unavailable, once the message's retry budget
  (SEND_MAX_ATTEMPTS) on that provider is spent. Never after an ambiguous
  outcome: those stay "needs review".
- Before its first attempt, while the provider cools down: a provider that
  failed FAILOVER_FAILURE_THRESHOLD times within FAILOVER_COOLDOWN_SECONDS is
  skipped for FAILOVER_COOLDOWN_SECONDS. A message never tried has reached no
  provider, so any failure counts towards the cool-down, ambiguous ones too;
  a message already tried there keeps its own rule above.

There is one hop: a message on SMS_FAILOVER never moves back. WhatsApp goes
through Twilio only and never moves. The count and the cool-down live in the
cache (Redis when REDIS_URL is set), shared by every worker; the admin shows a
provider cooling down as a banner.
"""

import logging
from datetime import UTC, datetime, timedelta
from typing import TypedDict

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from messaging.billing import pricing
from messaging.models import Message, MessageStatus
from messaging.providers.base import ErrorKind, ProviderError, Unsent
from smsbot import cache_reads
from smsbot.redaction import redact
from subscribers.models import Channel

log = logging.getLogger(__name__)

MOVED = "failover"
_FAILURES = "messaging:failover:failures:{}"
_COOLING = "messaging:failover:cooling:{}"
# Failures that say something about the provider, not about one message.
_PROVIDER_FAILURES = (ErrorKind.RETRYABLE, ErrorKind.AMBIGUOUS)


class CoolDown(TypedDict):
    provider: str
    until: str  # ISO 8601, UTC
    failures: int
    code: str
    message: str


def backup_for(message: Message) -> str | None:
    """The provider that may take message from its own, or None."""
    backup = settings.SMS_FAILOVER
    if not backup or message.channel != Channel.SMS or message.provider != settings.SMS_PROVIDER:
        return None
    return backup


def after_error(message: Message, exc: ProviderError) -> bool:
    """For a claimed message whose call failed: True when it moved to the backup provider
    (it is queued again there); False leaves it to the usual error handling."""
    backup = backup_for(message)
    if backup is None:
        return False
    if exc.kind in _PROVIDER_FAILURES:
        _count_failure(message.provider, exc)
    if not exc.provably_unsent:
        return False
    if exc.unsent == Unsent.TURNED_AWAY and message.attempts < settings.SEND_MAX_ATTEMPTS:
        return False  # throttled or unavailable: its own retries first
    return _move(message, backup, MessageStatus.SENDING, exc.code, exc.message)


def before_claim(message: Message) -> bool:
    """For a queued message never tried: True when its provider cools down and it moved
    to the backup provider (queued there)."""
    if message.attempts:
        return False
    backup = backup_for(message)
    if backup is None:
        return False
    cooling = cooling_down(message.provider)
    if cooling is None:
        return False
    why = f"{message.provider} skipped while it cools down until {cooling['until']}"
    return _move(message, backup, MessageStatus.QUEUED, "", why)


def cooling_down(provider: str) -> CoolDown | None:
    return cache.get(_COOLING.format(provider))


def cool_down_keys() -> list[str]:
    names = {settings.SMS_PROVIDER, settings.SMS_FAILOVER} - {""}
    return [_COOLING.format(name) for name in sorted(names)]


def cool_downs() -> list[CoolDown]:
    """Every provider being skipped now."""
    return list(cache_reads.get_many(cool_down_keys()).values())


def _count_failure(provider: str, exc: ProviderError) -> None:
    window = settings.FAILOVER_COOLDOWN_SECONDS
    key = _FAILURES.format(provider)
    cache.add(key, 0, timeout=window)
    try:
        failures = int(cache.incr(key))
    except ValueError:  # the window ended between the two calls
        cache.add(key, 1, timeout=window)
        failures = 1
    if failures < settings.FAILOVER_FAILURE_THRESHOLD:
        return
    until = datetime.now(UTC) + timedelta(seconds=window)
    cooling: CoolDown = {
        "provider": provider,
        "until": until.isoformat(timespec="seconds"),
        "failures": failures,
        "code": exc.code,
        "message": redact(exc.message)[:300],
    }
    cache.set(_COOLING.format(provider), cooling, timeout=window)
    cache.delete(key)
    log.error(
        "provider %s failed %s times: skipped for %s s, new messages go to %s",
        provider,
        failures,
        window,
        settings.SMS_FAILOVER,
    )


def _move(message: Message, backup: str, from_status: str, code: str, why: str) -> bool:
    """The failover claim: from_status on its provider → queued on backup, re-priced."""
    price = pricing.estimate(backup, message.channel, message.body, phone=message.phone)
    won = Message.objects.filter(
        pk=message.pk, status=from_status, provider=message.provider
    ).update(
        provider=backup,
        price_estimated=price,
        status=MessageStatus.QUEUED,
        # The retry budget is per provider; the call log keeps every attempt.
        attempts=0,
        next_attempt_at=None,
        error_code=code[:20],
        error_message=f"moved from {message.provider} to {backup}: {redact(why)}"[:2000],
        updated_at=timezone.now(),
    )
    if won:
        log.warning(
            "message %s moved from %s to %s (%s)", message.pk, message.provider, backup, code
        )
        message.provider, message.price_estimated = backup, price
        message.status, message.attempts = MessageStatus.QUEUED, 0
    return bool(won)
