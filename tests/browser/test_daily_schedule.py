"""The Daily schedule screen in Chromium: DevOps change the send time, operators read it."""

import pytest
from django.contrib.admin.models import LogEntry
from django_celery_beat.models import PeriodicTask

from messaging.broadcasts import schedule
from tests.ops.factories import OPS_PASSWORD, ops_manager

pytestmark = pytest.mark.browser

DEVOPS = (
    "messaging.view_dailyscheduletask",
    "messaging.change_dailyscheduletask",
    "django_celery_beat.view_periodictask",
    "django_celery_beat.change_periodictask",
)


@pytest.fixture
def laptop(visitor, transactional_db):  # type: ignore[no-untyped-def]
    visitor.page.set_viewport_size({"width": 1440, "height": 900})
    # A transactional test starts without the rows migrate made.
    schedule.ensure_daily_schedule()
    return visitor


def test_devops_changes_the_daily_send_time_and_sees_the_next_runs(laptop):
    user = ops_manager("devops", extra_permissions=DEVOPS)
    laptop.log_in(user.username, OPS_PASSWORD)
    page = laptop.page

    # From the home page's list of sections, and from the Broadcasts list.
    laptop.goto("/admin/")
    laptop.follow(page.locator("#content-main").get_by_role("link", name="Daily schedule"))
    laptop.goto("/admin/messaging/broadcast/")
    laptop.follow(page.locator(".object-tools").get_by_role("link", name="Daily schedule"))
    assert page.locator("#schedule-summary").inner_text() == "Every day at 10:00 America/Chicago"
    runs = page.locator("#next-runs tbody tr")
    assert runs.count() == 5
    assert "10:00 CST" in runs.first.inner_text() or "10:00 CDT" in runs.first.inner_text()
    body = page.locator("#content-main").inner_text()
    assert "*" not in body and "crontab" not in body.lower()  # no cron strings
    assert not page.get_by_role("link", name="Delete").count()

    page.fill("#id_time", "07:45")
    page.select_option("#id_timezone", "other")
    page.fill("#id_other_timezone", "Europe/Madrid")
    page.check("#id_mode_1")  # each subscriber's own time
    laptop.follow(page.get_by_role("button", name="Save schedule"))

    saved = page.locator(".messagelist", has_text="Saved:")
    assert "Saved: Every day at 07:45 Europe/Madrid." in saved.inner_text()
    assert page.locator("#schedule-summary").inner_text() == "Every day at 07:45 Europe/Madrid"
    first = runs.first.inner_text()
    assert "07:45 CET" in first or "07:45 CEST" in first
    # The UTC moment is on hover (the one clock).
    utc = runs.first.locator("time").first.get_attribute("title") or ""
    assert "06:45 UTC" in utc or "05:45 UTC" in utc, utc
    task = PeriodicTask.objects.select_related("crontab").get(name=schedule.PERIODIC_TASK_NAME)
    assert (task.crontab.hour, task.crontab.minute) == ("7", "45")
    assert str(task.crontab.timezone) == "Europe/Madrid"
    assert schedule.current().mode == schedule.LOCAL_TIME
    entry = LogEntry.objects.get(user=user)
    assert "time: 10:00 → 07:45" in entry.change_message
    assert "timezone: America/Chicago → Europe/Madrid" in entry.change_message
    assert "delivery: same moment → subscriber's own time" in entry.change_message
    assert entry.object_repr == "Daily schedule"

    # The change is in the schedule's history, which leads back to the screen.
    laptop.follow(page.locator(".object-tools").get_by_role("link", name="History"))
    assert "time: 10:00 → 07:45" in page.locator("#change-history").inner_text()
    laptop.follow(page.locator(".breadcrumbs").get_by_role("link", name="Daily schedule").last)
    assert page.url.endswith("/admin/messaging/dailyscheduletask/")
    # The raw periodic task stays there for DevOps.
    laptop.follow(page.get_by_role("link", name="Periodic tasks (advanced)"))


def test_an_operations_manager_reads_the_schedule_but_cannot_change_it(laptop):
    user = ops_manager("ops", extra_permissions=("messaging.view_dailyscheduletask",))
    laptop.log_in(user.username, OPS_PASSWORD)
    page = laptop.page
    laptop.goto("/admin/messaging/dailycontent/")
    laptop.follow(page.locator(".object-tools").get_by_role("link", name="Daily schedule"))
    assert page.locator("#next-runs tbody tr").count() == 5
    assert page.locator("#schedule-form").count() == 0
    assert "DevOps change it" in page.locator("#content-main").inner_text()
