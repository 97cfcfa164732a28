"""Times as operators read and type them: in OPS_TIMEZONE, with the zone named."""

from datetime import datetime
from zoneinfo import ZoneInfo

from smsbot.timezones import ops_zone


def abbreviation(moment: datetime) -> str:
    """'CDT'; zones without a letter abbreviation give 'UTC-03'."""
    name = moment.tzname() or ""
    return f"UTC{name}" if name.startswith(("+", "-")) else name


def local(moment: datetime, zone: ZoneInfo | None = None) -> str:
    """'Tue 12 May 2026, 10:00 CDT' in the operations timezone (or `zone`)."""
    at = moment.astimezone(zone or ops_zone())
    return f"{at:%a %d %b %Y, %H:%M} {abbreviation(at)}"


def utc(moment: datetime) -> str:
    return f"{moment.astimezone(ZoneInfo('UTC')):%a %d %b %Y, %H:%M} UTC"


def zone_label(zone: ZoneInfo | None = None) -> str:
    """'America/Chicago (CDT now)': the name an operator picks, and what it means today."""
    zone = zone or ops_zone()
    return f"{zone.key} ({abbreviation(datetime.now(zone))} now)"
