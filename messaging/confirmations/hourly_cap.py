"""The hourly cap on double opt-in confirmations: the breaker against SMS pumping.

A confirmation is the one message the portal sends to a number that has not
consented yet, so it is what a flood of fake sign-ups makes it pay for. At most
OPTIN_CONFIRMATIONS_PER_HOUR are released to the send queue in any rolling hour;
of those, one country may take OPTIN_CONFIRMATIONS_COUNTRY_SHARE % and one number
prefix (the country code and the first OPTIN_CONFIRMATIONS_PREFIX_DIGITS digits of
the national number: a NANP NPA-NXX by default) OPTIN_CONFIRMATIONS_PREFIX_SHARE %,
so that one range cannot spend the hour.

A confirmation without room is held (status "held", the reason in the message
log) and release() lets held ones go as room comes: on every sign-up, and from
beat every minute. They go in turn per sign-up source (Message.signup_source: the
hashed network of the client that signed up, or "" for imports and the admin,
which are one source together), oldest first within each source: the first held
of every source, oldest source first, then every source's second, and so on. So
a source that holds forty cannot make a newcomer from elsewhere wait behind them;
the doors also refuse a source that already has OPTIN_HELD_PER_SOURCE held. One
still held after a day is skipped with that reason; the person can still text START
or JOIN. The one-per-number-per-day rule counts held confirmations too, so a number
never gets two.
"""

import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import phonenumbers
from django.conf import settings
from django.db import connection
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from messaging import task_names
from messaging.models import Message, MessageKind, MessageStatus
from smsbot import outbox
from smsbot.celery import REPLIES_QUEUE
from subscribers import hooks
from subscribers.models import ConsentStatus

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=1)
HOLD_FOR = timedelta(days=1)
HELD = (
    "confirmation cap: waiting for room under OPTIN_CONFIRMATIONS_PER_HOUR "
    "(and its shares per country and per number prefix)"
)
EXPIRED = (
    "confirmation cap: held for a day without room, not sent; the person can still "
    "text START or JOIN"
)
# Held confirmations looked at per release, in release order: a flood from one prefix
# waiting ahead of everyone else is passed over, up to this many rows. Every source's
# first comes before any source's second, so a source's flood cannot push another
# source's confirmations past the scan.
SCAN_LIMIT = 2000
# pg_advisory_xact_lock key: one confirmation decided at a time, so counts are exact.
_LOCK_KEY = 7_304_512_001


def serialize() -> None:
    """Inside a transaction: wait until no other confirmation is being decided.

    SQLite needs nothing: its transactions begin IMMEDIATE (smsbot.settings), which
    takes the database's write lock for the whole transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def confirmations() -> QuerySet:
    return Message.objects.filter(kind=MessageKind.CONFIRMATION)


def sent_confirmations() -> QuerySet:
    """Confirmations that went, are going or are waiting to go; skipped ones are not."""
    return confirmations().exclude(status=MessageStatus.SKIPPED)


def held() -> QuerySet:
    return confirmations().filter(status=MessageStatus.HELD)


def country_of(phone: str) -> str:
    return phonenumbers.region_code_for_number(phonenumbers.parse(phone)) or ""


def prefix_of(phone: str) -> str:
    parsed = phonenumbers.parse(phone)
    national = phonenumbers.national_significant_number(parsed)
    return f"+{parsed.country_code}{national[: settings.OPTIN_CONFIRMATIONS_PREFIX_DIGITS]}"


def share(percent: int) -> int:
    """How many of the hour's confirmations percent of the cap is (at least one)."""
    return max(1, math.ceil(settings.OPTIN_CONFIRMATIONS_PER_HOUR * percent / 100))


@dataclass
class Room:
    """What the rolling hour's released confirmations leave, in total and per range."""

    used: int = 0
    by_country: Counter = field(default_factory=Counter)
    by_prefix: Counter = field(default_factory=Counter)

    @property
    def full(self) -> bool:
        return self.used >= settings.OPTIN_CONFIRMATIONS_PER_HOUR

    def admits(self, phone: str) -> bool:
        return (
            not self.full
            and self.by_country[country_of(phone)]
            < share(settings.OPTIN_CONFIRMATIONS_COUNTRY_SHARE)
            and self.by_prefix[prefix_of(phone)] < share(settings.OPTIN_CONFIRMATIONS_PREFIX_SHARE)
        )

    def take(self, phone: str) -> None:
        self.used += 1
        self.by_country[country_of(phone)] += 1
        self.by_prefix[prefix_of(phone)] += 1


def room(now: datetime) -> Room:
    # At most a cap's worth of rows: the cap itself keeps the hour that small.
    found = Room()
    for phone in (
        confirmations().filter(released_at__gt=now - WINDOW).values_list("phone", flat=True)
    ):
        found.take(phone)
    return found


def in_turn() -> QuerySet:
    """The held confirmations in release order: round robin over sign-up sources,
    each source's oldest first; among equal turns, the oldest first."""
    turn = Window(
        RowNumber(),
        partition_by=[F("signup_source")],
        order_by=[F("created_at").asc(), F("id").asc()],
    )
    return held().annotate(turn=turn).order_by("turn", "created_at", "id")


@hooks.set_held_counter
def held_from(signup_source: str) -> int:
    """How many confirmations of sign-ups from this source the cap holds now."""
    return held().filter(signup_source=signup_source).count()


def release(now: datetime) -> list[int]:
    """Under serialize(): skip the held confirmations that waited a day or whose sign-up
    is no longer pending, then queue the others the cap has room for, in turn per
    sign-up source (in_turn). Returns the ids queued."""
    expired = held().filter(created_at__lte=now - HOLD_FOR)
    _skip(expired, EXPIRED, now)
    space = room(now)
    if space.full:
        return []
    chosen: list[int] = []
    gone: list[int] = []
    rows = in_turn().values_list("id", "phone", "subscriber__consent_status")[:SCAN_LIMIT]
    for pk, phone, consent in rows:
        if consent != ConsentStatus.PENDING:
            gone.append(pk)
        elif space.admits(phone):
            space.take(phone)
            chosen.append(pk)
            if space.full:
                break
    _skip(held().filter(pk__in=gone), "the sign-up is no longer pending", now)
    held().filter(pk__in=chosen).update(
        status=MessageStatus.QUEUED, released_at=now, error_message="", updated_at=now
    )
    for pk in chosen:
        outbox.enqueue(task_names.SEND_MESSAGE, pk, queue=REPLIES_QUEUE)
    return chosen


def _skip(messages: QuerySet, reason: str, now: datetime) -> None:
    skipped = messages.update(
        status=MessageStatus.SKIPPED, error_message=reason, price_estimated=0, updated_at=now
    )
    if skipped:
        log.info("%d held opt-in confirmation(s) skipped: %s", skipped, reason)


@dataclass(frozen=True)
class Waiting:
    count: int
    oldest: datetime  # when the oldest waiting confirmation was held


def waiting() -> Waiting | None:
    """The confirmations the cap holds now, or None."""
    oldest = held().order_by("created_at").values_list("created_at", flat=True).first()
    if oldest is None:
        return None
    return Waiting(held().count(), oldest)
