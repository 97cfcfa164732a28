"""Brute-force protection of the admin login, through django-axes.

django-axes counts failed logins per user name and per client address
(AXES_LOCKOUT_PARAMETERS) and refuses both once AXES_FAILURE_LIMIT is
reached, for AXES_COOLOFF_TIME after the last failure. The client's address is
smsbot.client_ip's (the trusted-proxy rule); this module gives the page a
locked-out person sees.
"""

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def retry_after_minutes() -> int:
    """Whole minutes until a new attempt is counted again (AXES_COOLOFF_TIME)."""
    return max(1, -(-int(settings.AXES_COOLOFF_TIME.total_seconds()) // 60))


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """429 with a page saying when to retry (AXES_LOCKOUT_CALLABLE).

    The cool-off runs from the latest failed attempt (django-axes restarts it on
    every attempt during a lockout), so "in N minutes" is exact at this moment.
    """
    minutes = retry_after_minutes()
    # Rendered now: django-axes returns this from its middleware, after the view.
    response = render(
        request,
        "admin/locked_out.html",
        {
            **admin.site.each_context(request),
            "title": "Too many failed logins",
            "minutes": minutes,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
        },
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response
