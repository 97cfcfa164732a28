"""Times in the admin: in OPS_TIMEZONE with the zone named; stored, and elsewhere, in UTC."""

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from messaging.models import Message
from smsbot.timezones import OpsTimezoneMiddleware, shown
from tests.ops.factories import message

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
# 15:02 UTC: 09:02 in Chicago (CST), 02:02 the next day in Sydney (AEDT).
MOMENT = datetime(2026, 11, 28, 15, 2, tzinfo=UTC)


def test_a_message_page_shows_its_times_in_the_operations_zone_named(ops_client, settings):
    msg = message()
    Message.objects.filter(pk=msg.pk).update(created_at=MOMENT, sent_at=MOMENT)
    page = ops_client.get(f"/admin/messaging/message/{msg.pk}/change/").content.decode()
    assert "Nov 28, 2026, 9:02 a.m. CST" in page

    settings.OPS_TIMEZONE = "Australia/Sydney"
    page = ops_client.get(f"/admin/messaging/message/{msg.pk}/change/").content.decode()
    assert "Nov 29, 2026, 2:02 a.m. AEDT" in page
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


def test_shown_names_the_zone_of_the_current_timezone():
    with timezone.override(timezone.get_fixed_timezone(0)):
        assert shown(MOMENT).startswith("Nov 28, 2026, 3:02 p.m.")
    assert shown(None) == "—"


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
