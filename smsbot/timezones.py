"""One clock: every time and date the admin shows, in OPS_TIMEZONE with the zone named.

Storage stays UTC. Admin requests run with OPS_TIMEZONE as Django's current
timezone, so every datetime the admin renders (lists, read-only fields, the
`date` filter) is converted to it; the formats themselves live in
smsbot/formats/en/formats.py ("Sun 6 Dec 2026, 04:12 CST", "Sun 6 Dec 2026"),
and the functions here are how code outside a template uses them. Inputs take
ISO dates and 24-hour times (the formats' *_INPUT_FORMATS) and say their zone.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

NOTHING = "—"


def ops_zone() -> ZoneInfo:
    return ZoneInfo(settings.OPS_TIMEZONE)


def shown(value: datetime | None, zone: tzinfo | None = None) -> str:
    """'Sun 6 Dec 2026, 04:12 CST': in OPS_TIMEZONE (or `zone`), the zone named."""
    if value is None:
        return NOTHING
    return formats.date_format(value.astimezone(zone or ops_zone()), "DATETIME_FORMAT")


def shown_utc(value: datetime) -> str:
    """'Sun 6 Dec 2026, 10:12 UTC': the stored moment itself, for hover titles and exports."""
    return shown(value, UTC)


def shown_with_utc(value: datetime | None) -> SafeString | str:
    """The ops time, with its UTC time on hover: what the audit trail needs to match logs."""
    if value is None:
        return NOTHING
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        shown_utc(value),
        shown(value),
    )


def shown_time(value: datetime) -> str:
    """'04:12 CST': in OPS_TIMEZONE, the zone named, where the day goes without saying."""
    return formats.date_format(value.astimezone(ops_zone()), "TIME_FORMAT")


def shown_date(value: date | None) -> str:
    """'Sun 6 Dec 2026'."""
    return formats.date_format(value, "DATE_FORMAT") if value is not None else NOTHING


def shown_day(value: date) -> str:
    """'Sun 6 Dec': a chart's axis, a week's rows, where the year is the page's."""
    return formats.date_format(value, "MONTH_DAY_FORMAT")


def shown_month(value: date) -> str:
    """'Dec 2026'."""
    return formats.date_format(value, "YEAR_MONTH_FORMAT")


def abbreviation(moment: datetime) -> str:
    """'CDT'; a zone without a letter abbreviation gives its offset ('-03')."""
    return moment.tzname() or ""


def zone_label(zone: ZoneInfo | None = None) -> str:
    """'America/Chicago (CST now)': the name an operator picks, and what it means today."""
    zone = zone or ops_zone()
    return f"{zone.key} ({abbreviation(datetime.now(zone))} now)"


def times_in(zone: ZoneInfo | None = None) -> str:
    """'Times in America/Chicago (CST now).': what an input that takes a time says."""
    return f"Times in {zone_label(zone)}."


# Inputs are text in the formats' first *_INPUT_FORMATS: a browser's own date and time
# inputs (type=date, time, datetime-local) show the reader's locale, "12/01/2026, 04:12 AM".
class DateInput(forms.DateInput):
    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"placeholder": "YYYY-MM-DD", "size": 10, **(attrs or {})})


class ClockInput(forms.TimeInput):
    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"placeholder": "HH:MM (24-hour)", "size": 16, **(attrs or {})})


class DateTimeInput(forms.DateTimeInput):
    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"placeholder": "YYYY-MM-DD HH:MM", "size": 16, **(attrs or {})})


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
