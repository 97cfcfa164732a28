"""Times in the admin: in OPS_TIMEZONE with the zone named; stored, and elsewhere, in UTC."""

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from messaging.models import Message
from smsbot.timezones import (
    OpsTimezoneMiddleware,
    shown,
    shown_date,
    shown_utc,
    shown_with_utc,
)
from tests.ops.factories import message

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
# 15:02 UTC: 09:02 in Chicago (CST), 02:02 the next day in Sydney (AEDT).
MOMENT = datetime(2026, 11, 28, 15, 2, tzinfo=UTC)


def test_a_message_page_shows_its_times_in_the_operations_zone_named(ops_client, settings):
    msg = message()
    Message.objects.filter(pk=msg.pk).update(created_at=MOMENT, sent_at=MOMENT)
    page = ops_client.get(f"/admin/messaging/message/{msg.pk}/change/").content.decode()
    assert "Sat 28 Nov 2026, 09:02 CST" in page

    settings.OPS_TIMEZONE = "Australia/Sydney"
    page = ops_client.get(f"/admin/messaging/message/{msg.pk}/change/").content.decode()
    assert "Sun 29 Nov 2026, 02:02 AEDT" in page
    # Stored as it was: UTC.
    assert Message.objects.get(pk=msg.pk).created_at == MOMENT


def test_only_admin_requests_switch_zone():
    seen = {}

    def view(request):  # type: ignore[no-untyped-def]
        seen[request.path] = timezone.get_current_timezone_name()
        return HttpResponse()

    middleware = OpsTimezoneMiddleware(view)
    for path in ("/admin/messaging/message/", "/webhooks/twilio/status/", "/optin/"):
        middleware(RequestFactory().get(path))
    assert seen == {
        "/admin/messaging/message/": "America/Chicago",
        "/webhooks/twilio/status/": "UTC",
        "/optin/": "UTC",
    }
    assert timezone.get_current_timezone_name() == "UTC"  # and back afterwards


def test_one_clock_shows_the_operations_zone_named_whatever_zone_is_active():
    with timezone.override(timezone.get_fixed_timezone(0)):  # a worker's, an e-mail's
        assert shown(MOMENT) == "Sat 28 Nov 2026, 09:02 CST"
    assert shown(MOMENT, ZoneInfo("Australia/Sydney")) == "Sun 29 Nov 2026, 02:02 AEDT"
    assert shown_utc(MOMENT) == "Sat 28 Nov 2026, 15:02 UTC"
    assert shown_date(date(2026, 12, 1)) == "Tue 1 Dec 2026"  # never 12/01/2026
    assert shown(None) == shown_date(None) == "—"
    # The UTC moment on hover, as the logs have it.
    assert shown_with_utc(MOMENT) == (
        '<time datetime="2026-11-28T15:02:00Z" title="Sat 28 Nov 2026, 15:02 UTC">'
        "Sat 28 Nov 2026, 09:02 CST</time>"
    )


@pytest.mark.parametrize("name", ["OPS_TIMEZONE", "DAILY_SEND_TIMEZONE"])
def test_an_unknown_zone_stops_start_up_with_one_sentence(name):
    code = "import django; django.setup()"
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "smsbot.settings",
           "DJANGO_DEBUG": "true", name: "Mars/Olympus"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert f"{name} must be an IANA timezone such as America/Chicago, not 'Mars/Olympus'." in (
        result.stderr
    )
