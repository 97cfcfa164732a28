"""PAUSE, RESUME and TIME: what they change, and the answer naming the date or time.

They change when a subscriber gets messages, not consent: only an opted-in
subscriber can use them (anyone else gets the help text, as does an argument
out of range; messaging.inbound.reply_limits says whether an answer goes at all),
and each change is kept with the message as its evidence
(subscribers.delivery_window). Dates and times in the answers are on the subscriber's
own clock; the daily schedule says when messages come.
"""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from messaging.broadcasts.schedule import current, next_send
from messaging.inbound import keywords
from messaging.inbound.keywords import Window, WindowCommand
from subscribers import delivery_window, localtime
from subscribers.models import ConsentStatus, Subscriber


def spoken_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def answer(
    command: WindowCommand, subscriber: Subscriber | None, source: str, evidence: dict[str, Any]
) -> str:
    """Apply the command; the reply text (whether it is sent is reply_limits' call)."""
    if (
        not command.valid
        or subscriber is None
        or subscriber.consent_status != ConsentStatus.OPTED_IN
    ):
        return keywords.help_text()
    now = timezone.now()
    if command.command == Window.PAUSE:
        text = _pause(
            subscriber, command.days or settings.PAUSE_DEFAULT_DAYS, now, source, evidence
        )
    elif command.command == Window.RESUME:
        text = _resume(subscriber, now, source, evidence)
    else:
        text = _time(subscriber, command, source, evidence)
    return text


def end_pause(subscriber: Subscriber, source: str, evidence: dict[str, Any]) -> None:
    """An opt-in keyword from a paused subscriber ends the pause too."""
    if delivery_window.is_paused(subscriber, timezone.now()):
        delivery_window.resume(subscriber, source, evidence)


def _pause(
    subscriber: Subscriber, days: int, now: datetime, source: str, evidence: dict[str, Any]
) -> str:
    # The next `days` daily messages are skipped: messages start again on the date
    # of the one after them (or, with no schedule, `days` days after tomorrow).
    restart = delivery_window.restart_after(subscriber, days, now)
    delivery_window.pause(subscriber, restart, source, {**evidence, "days": days})
    return (
        f"Paused. Your daily messages start again on {spoken_date(restart)}. "
        f"Reply {settings.RESUME_KEYWORDS[0].upper()} to restart sooner."
    )


def _resume(subscriber: Subscriber, now: datetime, source: str, evidence: dict[str, Any]) -> str:
    delivery_window.resume(subscriber, source, evidence)
    first = _next_send_date(subscriber, subscriber.preferred_time, now)
    return f"Welcome back! Your daily messages start again on {spoken_date(first)}."


def _time(
    subscriber: Subscriber, command: WindowCommand, source: str, evidence: dict[str, Any]
) -> str:
    clock = command.clock
    assert clock is not None  # a valid TIME has one
    zone = subscriber.timezone or settings.DAILY_SEND_TIMEZONE
    quiet = localtime.quiet_hours()
    if quiet is not None and clock in quiet:
        return (
            f"Messages can't come between {localtime.spoken(quiet.start)} and "
            f"{localtime.spoken(quiet.end)}. Choose a time from {localtime.spoken(quiet.end)} "
            f"to {localtime.spoken(quiet.last_allowed)}, e.g. {settings.TIME_KEYWORD.upper()} 7pm."
        )
    delivery_window.set_preferred_time(subscriber, clock, source, evidence)
    daily = current()
    if daily.local_time:
        # Today's message may have gone already: the new time counts from the next one.
        return (
            f"Done: your daily message will come at {localtime.spoken(clock)} your time ({zone})."
        )
    return (
        f"Saved: {localtime.spoken(clock)} your time ({zone}). For now everyone's daily "
        f"message goes out at {localtime.spoken(daily.send_time)} {daily.timezone}."
    )


def _next_send_date(subscriber: Subscriber, preferred: time | None, now: datetime) -> date:
    moment = next_send(subscriber.timezone, preferred, now)
    if moment is None:  # the schedule is off
        return localtime.local_date(now, subscriber.timezone) + timedelta(days=1)
    return localtime.local_date(moment, subscriber.timezone)
