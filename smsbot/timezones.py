"""Times as operators read them: in OPS_TIMEZONE, with the zone named.

Storage stays UTC. Admin requests run with OPS_TIMEZONE as Django's current
timezone, so every datetime the admin renders (lists, read-only fields, the
`date` filter) is converted to it, and the datetime format names the zone.
"""

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone


def ops_zone() -> ZoneInfo:
    return ZoneInfo(settings.OPS_TIMEZONE)


def abbreviation(moment: datetime) -> str:
    """'CDT'; zones without a letter abbreviation give 'UTC-03'."""
    name = moment.tzname() or ""
    return f"UTC{name}" if name.startswith(("+", "-")) else name


def local(moment: datetime, zone: ZoneInfo | None = None) -> str:
    """'Tue 12 May 2026, 10:00 CDT' in the operations timezone (or `zone`)."""
    at = moment.astimezone(zone or ops_zone())
    return f"{at:%a %d %b %Y, %H:%M} {abbreviation(at)}"


def shown(value: datetime | None) -> str:
    """A datetime as the admin shows it: converted to the current zone, zone named."""
    if value is None:
        return "—"
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


class OpsTimezoneMiddleware:
    """Activates OPS_TIMEZONE for admin pages; webhooks and workers keep UTC."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_admin(request.path):
            return self.get_response(request)
        with timezone.override(ops_zone()):
            return self.get_response(request)


def is_admin(path: str) -> bool:
    try:
        return path.startswith(reverse("admin:index"))
    except NoReverseMatch:  # a URLconf without the admin (a bench's) has no admin pages
        return False
