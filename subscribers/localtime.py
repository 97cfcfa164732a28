"""A recipient's wall clock: IANA zones, quiet hours, send times.

Pure rules on settings, shared by the keywords (TIME), the broadcasts (waves,
preview) and the dispatcher (quiet hours at the claim). Moments are stored in
UTC; these functions read them on a subscriber's own clock.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError


@cache
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_timezone(name: str) -> bool:
    """An IANA name as tzdata spells it ("America/Chicago", not "america/chicago")."""
    return name in _iana_names()


def validate_timezone(value: str) -> None:
    if value and not is_timezone(value):
        raise ValidationError(f"{value!r} is not an IANA timezone name such as America/Chicago.")


def zone(name: str) -> ZoneInfo:
    """A subscriber's zone. A blank one (a row written without the model's save, such
    as a bulk insert) counts as DAILY_SEND_TIMEZONE, like a number with no zone."""
    return ZoneInfo(name or settings.DAILY_SEND_TIMEZONE)


def at(day: date, clock: time, zone_name: str) -> datetime:
    """The UTC moment of a wall-clock time on a local date.

    A time that does not exist that day (skipped by a DST change) is read with the
    offset before the change, so it lands just after it (02:30 → 03:30); a time that
    happens twice is the first of the two (PEP 495, fold=0): once, never twice.
    """
    return datetime.combine(day, clock, tzinfo=zone(zone_name)).astimezone(UTC)


def local_date(moment: datetime, zone_name: str) -> date:
    return moment.astimezone(zone(zone_name)).date()


def parse_clock(text: str) -> time:
    """'HH:MM' as a time; ValueError otherwise."""
    hours, minutes = text.strip().split(":")
    if len(minutes) != 2:
        raise ValueError(text)
    return time(int(hours), int(minutes))


def spoken(clock: time) -> str:
    """7:30 PM — how the confirmations say a time."""
    return f"{(clock.hour % 12) or 12}:{clock.minute:02d} {'AM' if clock.hour < 12 else 'PM'}"


@dataclass(frozen=True)
class QuietHours:
    """[start, end) on the recipient's clock; start after end wraps midnight."""

    start: time
    end: time

    def __contains__(self, clock: time) -> bool:
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def end_after(self, local: datetime) -> datetime:
        """The end of the quiet hours that local (a zoned moment inside them) falls in."""
        day = local.date()
        if self.start > self.end and local.time() >= self.start:
            day += timedelta(days=1)
        return datetime.combine(day, self.end, tzinfo=local.tzinfo)

    @property
    def last_allowed(self) -> time:
        """The last minute outside the quiet hours before they start."""
        return (datetime.combine(date.min, self.start) - timedelta(minutes=1)).time()


@cache
def parse_quiet_hours(value: str) -> QuietHours | None:
    """QUIET_HOURS: "HH:MM-HH:MM", or empty for none."""
    if not value.strip():
        return None
    try:
        start, end = (parse_clock(part) for part in value.split("-"))
    except ValueError:
        raise ImproperlyConfigured(
            f"QUIET_HOURS must be HH:MM-HH:MM (e.g. 21:00-08:00) or empty, not {value!r}"
        ) from None
    if start == end:
        raise ImproperlyConfigured(f"QUIET_HOURS start and end must differ: {value!r}")
    return QuietHours(start, end)


def quiet_hours() -> QuietHours | None:
    return parse_quiet_hours(settings.QUIET_HOURS)


def held_until(zone_name: str, moment: datetime) -> datetime | None:
    """If moment is inside the quiet hours of a recipient in zone_name, when they end
    (UTC); None when a broadcast message may go at moment."""
    quiet = quiet_hours()
    if quiet is None:
        return None
    local = moment.astimezone(zone(zone_name))
    if local.time() not in quiet:
        return None
    return quiet.end_after(local).astimezone(UTC)


def quiet_begins_between(zone_name: str, start: datetime, end: datetime) -> bool:
    """Whether a recipient in zone_name, outside quiet hours at start, is inside them
    before end: a send still going then holds the rest of theirs until the morning."""
    quiet = quiet_hours()
    if quiet is None or end <= start or held_until(zone_name, start):
        return False
    local = start.astimezone(zone(zone_name))
    begins = datetime.combine(local.date(), quiet.start, tzinfo=local.tzinfo)
    if begins <= local:
        begins += timedelta(days=1)
    return begins <= end


def validate_send_time(value: time | None) -> None:
    """A preferred send time must be outside the quiet hours."""
    quiet = quiet_hours()
    if value is not None and quiet is not None and value in quiet:
        raise ValidationError(
            f"{value:%H:%M} is inside the quiet hours ({quiet}): choose a time from "
            f"{quiet.end:%H:%M} to {quiet.last_allowed:%H:%M}."
        )
