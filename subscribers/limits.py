"""Limits on the public sign-up doors, the /optin/ form and /api/optin/ together.

Per client IP (smsbot.client_ip, through django-ratelimit's "ip" key), per
number and per e-mail address. The counters live in the cache, which every web process shares (Redis
in production). The hourly cap on confirmation messages is the last line, in
messaging.confirmations; while it holds confirmations, a sign-up source (the client's
network) that already has OPTIN_HELD_PER_SOURCE of them waiting is refused at the
door (held_per_source), so one network cannot fill the queue.
"""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from subscribers import hooks

# One budget for both doors: a client cannot double it by switching door.
CLIENT_GROUP = "subscribers.optin.client"
NUMBER_GROUP = "subscribers.optin.number"
# An e-mail address is counted like a number, so many numbers cannot flood one inbox.
EMAIL_GROUP = "subscribers.optin.email"


@dataclass(frozen=True)
class Limited:
    reason: str
    retry_after: int  # seconds until the window ends


def per_client(request: HttpRequest) -> Limited | None:
    """Count one sign-up attempt from this client; Limited once it is past OPTIN_RATE_LIMIT."""
    return _count(
        request,
        CLIENT_GROUP,
        "ip",
        settings.OPTIN_RATE_LIMIT,
        "too many sign-ups from this address",
    )


def per_number(request: HttpRequest, phone: str) -> Limited | None:
    """Count one request for this number (E.164); Limited past OPTIN_NUMBER_RATE_LIMIT."""
    return _count(
        request,
        NUMBER_GROUP,
        lambda group, request: phone,
        settings.OPTIN_NUMBER_RATE_LIMIT,
        "too many requests for this number",
    )


def per_email(request: HttpRequest, address: str) -> Limited | None:
    """Count one request for this e-mail address (case does not count); Limited past
    OPTIN_NUMBER_RATE_LIMIT, the same budget a number has."""
    return _count(
        request,
        EMAIL_GROUP,
        lambda group, request: address.lower(),
        settings.OPTIN_NUMBER_RATE_LIMIT,
        "too many requests for this e-mail address",
    )


# What a source told to wait is asked to wait: room under the cap comes back as its
# rolling hour moves, and the source's held sign-ups get a turn in each release.
HELD_RETRY_AFTER = 3600


def held_per_source(signup_source: str) -> Limited | None:
    """Limited when this sign-up source already has OPTIN_HELD_PER_SOURCE confirmations
    held by the hourly cap (0 turns the limit off). Read, not locked: two requests at
    once may each take the last place, and the per-client rate limit bounds that."""
    limit = settings.OPTIN_HELD_PER_SOURCE
    if limit <= 0 or hooks.held_from(signup_source) < limit:
        return None
    return Limited(
        "too many sign-ups from this network are already waiting for their confirmation "
        "text (the hourly limit on confirmations is reached): try again in 60 minute(s)",
        HELD_RETRY_AFTER,
    )


def _count(request: HttpRequest, group: str, key: object, rate: str, reason: str) -> Limited | None:
    usage = get_usage(request, group=group, key=key, rate=rate, increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    # time_left is -1 when the cache could not count (the limit then holds anyway).
    retry_after = usage["time_left"] if usage["time_left"] > 0 else 60
    minutes = max(1, round(retry_after / 60))
    return Limited(f"{reason}: try again in {minutes} minute(s)", retry_after)
