"""Who may receive a broadcast at a moment: the one rule, in the four forms it is read in.

Opted in, not marked undeliverable, not erased, and not paused at that moment.
The audience filters with sendable() (a Q, index-backed); the preview splits
everyone by refusal_column() (the reason as a column, in one grouped query); the
claim that turns a queued message into a sending one tests sendable_sql() inside
its UPDATE, so consent is read at the moment of sending; the send itself reads
the row again with refusal(). The four stand side by side here, and a test
holds them to the same answers, so they cannot drift.
"""

from datetime import datetime
from enum import StrEnum

from django.db import connection
from django.db.models import Case, Q, Value, When

from subscribers.models import ConsentStatus, Subscriber


class Refusal(StrEnum):
    UNDELIVERABLE = "undeliverable"
    ERASED = "erased"
    NOT_OPTED_IN = "not_opted_in"
    PAUSED = "paused"


def sendable(at: datetime) -> Q:
    """The rule as a filter on Subscriber."""
    return Q(consent_status=ConsentStatus.OPTED_IN, undeliverable=False, erased_at__isnull=True) & (
        Q(paused_until__isnull=True) | Q(paused_until__lte=at)
    )


def refusal_column(at: datetime) -> Case:
    """The rule as a column on Subscriber: refusal()'s answer for each row ("" for the
    rows it takes), in the same order."""
    return Case(
        When(undeliverable=True, then=Value(Refusal.UNDELIVERABLE.value)),
        When(erased_at__isnull=False, then=Value(Refusal.ERASED.value)),
        When(~Q(consent_status=ConsentStatus.OPTED_IN), then=Value(Refusal.NOT_OPTED_IN.value)),
        When(paused_until__gt=at, then=Value(Refusal.PAUSED.value)),
        default=Value(""),
    )


def sendable_sql(table: str, at: datetime) -> tuple[str, list[object]]:
    """The rule as an SQL condition on the (quoted) subscriber table, with its parameters.

    Written out for the claim, the hottest statement of a send (see
    messaging.outbound.statements).
    """
    sql = (
        f"{table}.consent_status = %s AND {table}.undeliverable = %s"
        f" AND {table}.erased_at IS NULL"
        f" AND ({table}.paused_until IS NULL OR {table}.paused_until <= %s)"
    )
    paused_until = Subscriber._meta.get_field("paused_until")
    return sql, [ConsentStatus.OPTED_IN, False, paused_until.get_db_prep_save(at, connection)]


def refusal(subscriber: Subscriber | None, at: datetime, *, pause: bool = True) -> Refusal | None:
    """The rule on one row: why it may not receive a broadcast at `at`, or None.

    pause=False asks the same without the pause, for messages a pause does not
    hold (a staff test send, a reply); the first reason that applies is given.
    """
    if subscriber is not None and subscriber.undeliverable:
        return Refusal.UNDELIVERABLE
    if subscriber is not None and subscriber.erased_at:
        return Refusal.ERASED
    if subscriber is None or subscriber.consent_status != ConsentStatus.OPTED_IN:
        return Refusal.NOT_OPTED_IN
    if pause and subscriber.paused_until is not None and subscriber.paused_until > at:
        return Refusal.PAUSED
    return None
