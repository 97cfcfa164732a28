"""The only writer of a subscriber's delivery window: pause, resume, preferred time.

None of these is a consent change (a paused subscriber stays opted in), but each
is kept like one: the new value and a SubscriberEvent with its source and
evidence, in one transaction with the row locked. The row's version moves, so
the DynamoDB mirror follows.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction

from subscribers import hooks, localtime
from subscribers.models import Subscriber, SubscriberEvent, SubscriberEventKind


@dataclass(frozen=True)
class WindowChange:
    subscriber: Subscriber
    changed: bool
    event: SubscriberEvent | None


def restart_day(subscriber: Subscriber, moment: datetime | None) -> date | None:
    """The local date messages start again after a pause ending at moment."""
    return localtime.local_date(moment, subscriber.timezone) if moment else None


# PAUSE <days>, by keyword or from the admin.
PAUSE_DAYS = range(1, 91)


def restart_after(subscriber: Subscriber, days: int, now: datetime) -> date:
    """The date messages start again when the next `days` daily messages are skipped: the
    date of the one after them (with the schedule off, `days` days after tomorrow)."""
    first = hooks.next_send_day(subscriber, now)
    if first is None:
        first = localtime.local_date(now, subscriber.timezone) + timedelta(days=1)
    return first + timedelta(days=days)


def is_paused(subscriber: Subscriber, now: datetime) -> bool:
    return subscriber.paused_until is not None and subscriber.paused_until > now


def pause(
    subscriber: Subscriber, restart: date, source: str, evidence: dict[str, Any]
) -> WindowChange:
    """No broadcast until restart begins on the subscriber's clock (local midnight)."""
    until = localtime.at(restart, time(0), subscriber.timezone)
    return _write(subscriber, SubscriberEventKind.PAUSED, "paused_until", until, source, evidence)


def resume(subscriber: Subscriber, source: str, evidence: dict[str, Any]) -> WindowChange:
    """End a pause at once; a subscriber who is not paused is left as is."""
    return _write(subscriber, SubscriberEventKind.RESUMED, "paused_until", None, source, evidence)


def set_preferred_time(
    subscriber: Subscriber, clock: time | None, source: str, evidence: dict[str, Any]
) -> WindowChange:
    """The subscriber's own send time (None: the schedule's); never inside quiet hours."""
    localtime.validate_send_time(clock)
    return _write(
        subscriber, SubscriberEventKind.PREFERRED_TIME, "preferred_time", clock, source, evidence
    )


def _shown(subscriber: Subscriber, field: str, value: datetime | time | None) -> str:
    if value is None:
        return ""
    if field == "paused_until":
        return str(restart_day(subscriber, value))
    return f"{value:%H:%M}"


def _write(
    subscriber: Subscriber,
    kind: str,
    field: str,
    value: datetime | time | None,
    source: str,
    evidence: dict[str, Any],
) -> WindowChange:
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        before = getattr(locked, field)
        if before == value:
            return WindowChange(locked, False, None)
        setattr(locked, field, value)
        # Only this column: consent and the mirror's own columns are not ours to write.
        locked.save(update_fields=[field])
        event = SubscriberEvent.objects.create(
            subscriber=locked,
            kind=kind,
            before=_shown(locked, field, before),
            after=_shown(locked, field, value),
            source=source,
            evidence=evidence,
        )
    return WindowChange(locked, True, event)
