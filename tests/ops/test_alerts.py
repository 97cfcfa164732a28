"""Alerts: the conditions shown as banners on the admin home and the broadcast pages."""

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.broadcasts import daily
from messaging.models import Broadcast
from messaging.outbound import config_errors
from messaging.reports import alerts, monitoring

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def healthy():
    """Beat and the workers alive, today's broadcast begun: no monitoring banner."""
    Broadcast.objects.create(
        idempotency_key=daily.key_for(daily.local_today()), name="Daily", text="Shalom",
        state="sending", started_at=timezone.now(),
    )  # fmt: skip
    monitoring.heartbeat()


def test_nothing_to_report_raises_no_alert(settings):
    settings.DAILY_FALLBACK_TEXT = "fallback"
    config_errors.dismiss()
    assert [a for a in alerts.active() if a.level == alerts.ERROR] == []


def test_a_configuration_error_is_an_error_banner_on_the_admin_home(admin_client, settings):
    settings.DAILY_FALLBACK_TEXT = "fallback"
    config_errors.remember("twilio", "20003", "Authenticate")
    try:
        (alert,) = [a for a in alerts.active() if a.level == alerts.ERROR]
        assert "20003" in alert.text and alert.url == reverse(
            "admin:messaging_broadcast_changelist"
        )
        page = admin_client.get(reverse("admin:index")).content.decode()
        assert 'class="messagelist ops-alerts"' in page and "20003" in page
    finally:
        config_errors.dismiss()


def test_missing_daily_content_links_to_where_it_is_added(settings):
    settings.DAILY_FALLBACK_TEXT = ""
    (alert,) = [a for a in alerts.active() if "No daily content" in a.text]
    assert alert.url == reverse("admin:messaging_dailycontent_changelist")
