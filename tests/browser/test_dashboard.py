"""The operations dashboard in Debian's Chromium, as an Operations Manager."""

import re

import pytest
from django.utils import timezone

from messaging.reports import rollups
from tests.ops.factories import seed_operations

pytestmark = pytest.mark.browser


def test_dashboard_shows_charts_and_figures_and_links_to_the_filtered_log(ops_visitor):
    seeded = seed_operations(timezone.localdate())
    rollups.refresh_recent()
    page = ops_visitor.page
    ops_visitor.goto("/admin/")

    charts = page.locator("svg.ops-chart")
    assert charts.count() == 2
    for i in range(2):
        chart = charts.nth(i)
        assert chart.get_attribute("role") == "img"
        labelled_by = chart.get_attribute("aria-labelledby").split()
        # Labelled by its <title> and its <desc>, both with text.
        assert len(labelled_by) == 2
        assert all(page.locator(f"#{id_}").text_content() for id_ in labelled_by)
        assert chart.bounding_box()["height"] > 100  # drawn, not collapsed
    assert page.locator("svg.ops-chart title").first.text_content().startswith("Opt-ins and")
    assert page.locator("svg.ops-chart rect.bar").count() == 30
    assert page.locator("svg.ops-chart polyline").count() == 2

    assert page.locator("#ops-broadcast").get_by_text("1 sent of 4 (50% done)").is_visible()
    assert page.locator("#ops-failures").get_by_text("Unreachable destination handset").is_visible()
    spend = page.locator("#ops-spend .ops-big a")
    assert re.fullmatch(r"\$[\d,]+\.\d{2,4}", spend.text_content().strip())
    # The app list is still on the home page, below the dashboard.
    assert page.locator("#content-main .app-messaging").is_visible()

    ops_visitor.follow(page.locator("#ops-failures tbody a").first)
    assert "/admin/messaging/message/" in page.url and "error_code=30003" in page.url
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("th a, td a").first.text_content().strip() == str(seeded["failed"].pk)
    # The admin's own filter sidebar shows the filter as chosen.
    assert page.locator("#changelist-filter li.selected").get_by_text("30003").is_visible()

    ops_visitor.goto("/admin/")
    ops_visitor.follow(page.locator("#ops-spend-chart svg a").last)
    assert "created_at__gte=" in page.url and "status__in=" in page.url
    assert page.locator("#result_list tbody tr").count() >= 2
    # login form, home after login, home, failures, home, spend of today
    assert len(ops_visitor.screenshots) == 6


def test_cost_report_and_message_detail_render_cleanly(ops_visitor):
    from tests.ops.factories import delivery_event, provider_call

    seeded = seed_operations(timezone.localdate())
    provider_call(seeded["failed"], outcome="retryable", http_status=200)
    delivery_event(seeded["failed"], "failed", error_code="30003")
    rollups.refresh_recent()
    page = ops_visitor.page
    ops_visitor.follow(page.get_by_role("link", name="Cost report (month by month, CSV)"))
    assert page.locator("#cost-report tbody tr").count() == 2  # twilio sms, twilio whatsapp
    assert page.get_by_role("link", name="Download CSV").is_visible()

    ops_visitor.goto(f"/admin/messaging/message/{seeded['failed'].pk}/change/")
    meaning = "Unreachable destination handset (off or out of coverage)"
    assert page.get_by_text(meaning).first.is_visible()
    assert page.locator("pre.ops-json").count() == 2  # the call's request and response
    assert page.get_by_role("link", name="Retry…").count() == 0  # read-only for this user
