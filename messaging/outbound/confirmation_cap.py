"""The hourly cap on double opt-in confirmations: the breaker against SMS pumping.

A confirmation is the one message the portal sends to a number that has not
consented yet, so it is what a flood of fake sign-ups makes it pay for. At most
OPTIN_CONFIRMATIONS_PER_HOUR are sent in any rolling hour; past that they are
withheld (messaging.inbound.confirmations decides) and each trip is remembered
for a day so that the admin can say what happened and what to do.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet

from messaging.models import Message, MessageKind, MessageStatus

WINDOW = timedelta(hours=1)
TRIP_KEY = "messaging:optin-confirmation-cap"
KEEP_SECONDS = 24 * 3600
# pg_advisory_xact_lock key: one confirmation decided at a time, so counts are exact.
_LOCK_KEY = 7_304_512_001


@dataclass(frozen=True)
class Trip:
    first: datetime  # the first confirmation withheld
    last: datetime  # the latest one
    withheld: int


def serialize() -> None:
    """Inside a transaction: wait until no other confirmation is being decided.

    SQLite needs nothing: its transactions begin IMMEDIATE (smsbot.settings), which
    takes the database's write lock for the whole transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def sent_confirmations() -> QuerySet:
    """Confirmations that went (or were queued) to a provider; withheld ones are skipped."""
    return Message.objects.filter(kind=MessageKind.CONFIRMATION).exclude(
        status=MessageStatus.SKIPPED
    )


def reached(now: datetime) -> bool:
    """True when the last hour's confirmations have reached the cap."""
    sent = sent_confirmations().filter(created_at__gt=now - WINDOW).count()
    return sent >= settings.OPTIN_CONFIRMATIONS_PER_HOUR


def record_trip(now: datetime) -> None:
    trip = last_trip()
    first = trip.first if trip else now
    withheld = trip.withheld + 1 if trip else 1
    cache.set(
        TRIP_KEY,
        {"first": first.isoformat(), "last": now.isoformat(), "withheld": withheld},
        timeout=KEEP_SECONDS,
    )


def last_trip() -> Trip | None:
    """The cap's trips of the last day (counted from the latest), or None."""
    data = cache.get(TRIP_KEY)
    if not data:
        return None
    return Trip(
        datetime.fromisoformat(data["first"]),
        datetime.fromisoformat(data["last"]),
        int(data["withheld"]),
    )
