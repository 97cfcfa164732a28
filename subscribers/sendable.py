"""Who may receive a broadcast at a moment: the one rule, in the four forms it is read in.

By number (SMS, WhatsApp): opted in, the number not marked undeliverable, not
erased, and not paused at that moment. By e-mail (email=True): the address
confirmed (email_status opted in) and not marked undeliverable, the number not
opted out (a STOP ends the subscription on every channel), not erased, and not
paused at that moment.
The audience filters with sendable() (a Q, index-backed); the preview splits
everyone by refusal_column() (the reason as a column, in one grouped query); the
claim that turns a queued message into a sending one tests sendable_sql() inside
its UPDATE, so consent is read at the moment of sending; the send itself reads
the row again with refusal(). Each takes email= for the e-mail address's rule.
The four stand side by side here, and a test holds them to the same answers,
for both addresses, so they cannot drift.
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
    # E-mail only: the address is confirmed but the number said STOP.
    NUMBER_OPTED_OUT = "number_opted_out"
    PAUSED = "paused"


# The fields that hold consent and deliverability, by address.
_NUMBER = ("consent_status", "undeliverable")
_EMAIL = ("email_status", "email_undeliverable")


def sendable(at: datetime, *, email: bool = False) -> Q:
    """The rule as a filter on Subscriber."""
    status, undeliverable = _EMAIL if email else _NUMBER
    rule = Q(**{status: ConsentStatus.OPTED_IN, undeliverable: False}, erased_at__isnull=True)
    if email:
        rule &= ~Q(consent_status=ConsentStatus.OPTED_OUT)
    return rule & (Q(paused_until__isnull=True) | Q(paused_until__lte=at))


def refusal_column(at: datetime, *, email: bool = False) -> Case:
    """The rule as a column on Subscriber: refusal()'s answer for each row ("" for the
    rows it takes), in the same order."""
    status, undeliverable = _EMAIL if email else _NUMBER
    number_out = [
        When(consent_status=ConsentStatus.OPTED_OUT, then=Value(Refusal.NUMBER_OPTED_OUT.value))
    ]
    return Case(
        When(**{undeliverable: True}, then=Value(Refusal.UNDELIVERABLE.value)),
        When(erased_at__isnull=False, then=Value(Refusal.ERASED.value)),
        When(~Q(**{status: ConsentStatus.OPTED_IN}), then=Value(Refusal.NOT_OPTED_IN.value)),
        *(number_out if email else []),
        When(paused_until__gt=at, then=Value(Refusal.PAUSED.value)),
        default=Value(""),
    )


def sendable_sql(table: str, at: datetime, *, email: bool = False) -> tuple[str, list[object]]:
    """The rule as an SQL condition on the (quoted) subscriber table, with its parameters.

    Written out for the claim, the hottest statement of a send (see
    messaging.outbound.statements).
    """
    status, undeliverable = _EMAIL if email else _NUMBER
    sql = f"{table}.{status} = %s AND {table}.{undeliverable} = %s"
    params: list[object] = [ConsentStatus.OPTED_IN, False]
    if email:
        sql += f" AND {table}.consent_status <> %s"
        params.append(ConsentStatus.OPTED_OUT)
    sql += (
        f" AND {table}.erased_at IS NULL"
        f" AND ({table}.paused_until IS NULL OR {table}.paused_until <= %s)"
    )
    paused_until = Subscriber._meta.get_field("paused_until")
    return sql, [*params, paused_until.get_db_prep_save(at, connection)]


def refusal(
    subscriber: Subscriber | None, at: datetime, *, pause: bool = True, email: bool = False
) -> Refusal | None:
    """The rule on one row: why it may not receive a broadcast at `at`, or None.

    pause=False asks the same without the pause, for messages a pause does not
    hold (a staff test send, a reply); the first reason that applies is given.
    """
    status, undeliverable = _EMAIL if email else _NUMBER
    if subscriber is not None and getattr(subscriber, undeliverable):
        return Refusal.UNDELIVERABLE
    if subscriber is not None and subscriber.erased_at:
        return Refusal.ERASED
    if subscriber is None or getattr(subscriber, status) != ConsentStatus.OPTED_IN:
        return Refusal.NOT_OPTED_IN
    if email and subscriber.consent_status == ConsentStatus.OPTED_OUT:
        return Refusal.NUMBER_OPTED_OUT
    if pause and subscriber.paused_until is not None and subscriber.paused_until > at:
        return Refusal.PAUSED
    return None
