"""In Debian's Chromium: the dead-man's-switch banners, and SNS's logged prices on screen."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from messaging.billing import build
from messaging.models import MessageStatus
from messaging.outbound import dispatch
from messaging.reports import monitoring
from smsbot import timezones
from smsbot.aws import client
from subscribers.consent import change
from tests.fakes.sns_delivery_logs import SnsDeliveryLogs
from tests.ops.daily_schedule import due_minutes_ago
from tests.ops.factories import OPS_PASSWORD, ops_manager

pytestmark = pytest.mark.browser


@pytest.fixture
def devops_visitor(visitor, transactional_db, settings):
    """Someone who can act on the banners: the periodic tasks and broadcasts are theirs."""
    settings.DAILY_FALLBACK_TEXT = "A word for today"  # every day has content
    user = ops_manager(
        "devops",
        extra_permissions=(
            "django_celery_beat.view_periodictask",
            "django_celery_beat.change_periodictask",
            "messaging.change_broadcast",
        ),
    )
    visitor.log_in(user.username, OPS_PASSWORD)
    return visitor


def banners(visitor) -> str:
    locator = visitor.page.locator("ul.ops-alerts")
    return locator.inner_text() if locator.count() else ""


def test_beat_stopping_turns_the_heartbeat_banner_on(devops_visitor):
    page = devops_visitor.page
    monitoring.heartbeat()
    devops_visitor.goto("/admin/")
    assert "No heartbeat" not in banners(devops_visitor)

    # Beat stopped six minutes ago: its last heartbeat is all there is.
    monitoring.heartbeat(timezone.now() - timedelta(minutes=6))
    devops_visitor.goto("/admin/")
    assert "No heartbeat from Celery beat and the workers for 6 minutes" in banners(devops_visitor)
    assert page.locator("ul.ops-alerts li.error").first.is_visible()
    devops_visitor.follow(page.locator("ul.ops-alerts").get_by_role("link", name="Periodic tasks"))
    assert page.url.endswith("/admin/django_celery_beat/periodictask/")


def test_a_skipped_daily_broadcast_turns_its_banner_on(devops_visitor):
    page = devops_visitor.page
    due = due_minutes_ago(10)
    monitoring.heartbeat()
    devops_visitor.goto("/admin/")
    assert "has not started" not in banners(devops_visitor)  # 10 minutes: still its grace

    due = due_minutes_ago(20)
    monitoring.heartbeat()
    devops_visitor.goto("/admin/")
    text = banners(devops_visitor)
    assert "Today's broadcast" in text and "has not started" in text
    with timezone.override(timezones.ops_zone()):  # the admin shows times in OPS_TIMEZONE
        assert f"due at {timezones.shown(due)}" in text
    devops_visitor.follow(page.locator("ul.ops-alerts").get_by_role("link", name="Broadcasts"))
    assert page.url.endswith("/admin/messaging/broadcast/")


def test_the_price_sns_logged_shows_on_the_message_the_dashboard_and_the_cost_report(
    ops_visitor, aws, settings
):
    settings.SMS_PROVIDER = "sns"
    page = ops_visitor.page
    subscriber = change("+13125550123", "opted_in", "web_form", {"form": "test"}).subscriber
    message = build.outbound(
        kind="reply", channel="sms", provider="sns", phone=subscriber.phone, body="Your word",
        subscriber=subscriber, status=MessageStatus.QUEUED,
    )  # fmt: skip
    message.save()
    assert dispatch.send(message.pk).status == MessageStatus.SENT
    message.refresh_from_db()
    logs = SnsDeliveryLogs(client("logs"), settings.AWS_REGION, "123456789012")
    logs.write(logs.success(message.provider_message_id, subscriber.phone, price="0.00581"))
    call_command("fetch_sns_delivery", stdout=io.StringIO())
    message.refresh_from_db()
    assert message.price_actual == Decimal("0.00581")

    ops_visitor.goto(f"/admin/messaging/message/{message.pk}/change/")
    assert page.get_by_text("Estimated 0.00645, actual 0.00581 USD").is_visible()
    assert page.get_by_text("Delivered").first.is_visible()
    ops_visitor.goto("/admin/")
    assert page.locator("#ops-spend .ops-big a").inner_text().strip() == "$0.0058"
    ops_visitor.follow(page.get_by_role("link", name="Cost report", exact=True))
    cells = page.locator("#cost-report tbody tr").first.locator("td")
    assert cells.nth(-2).inner_text() == "actual" and cells.last.inner_text() == "$0.0058"
