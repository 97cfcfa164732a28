"""Times as operators read and type them: in OPS_TIMEZONE, with the zone named."""

from datetime import datetime
from zoneinfo import ZoneInfo

# The screens outside the admin (the dashboard's figures) share these two.
from smsbot.timezones import abbreviation, local, ops_zone

__all__ = ["abbreviation", "local", "utc", "zone_label"]


def utc(moment: datetime) -> str:
    return f"{moment.astimezone(ZoneInfo('UTC')):%a %d %b %Y, %H:%M} UTC"


def zone_label(zone: ZoneInfo | None = None) -> str:
    """'America/Chicago (CDT now)': the name an operator picks, and what it means today."""
    zone = zone or ops_zone()
    return f"{zone.key} ({abbreviation(datetime.now(zone))} now)"
