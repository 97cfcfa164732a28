"""The operations dashboard and the cost report in Debian's Chromium, as an Operations Manager."""

import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from messaging import task_names
from messaging.broadcasts import audience, daily, schedule
from messaging.delivery.reports import adopt_early_reports
from messaging.models import Message
from messaging.reports import dashboard, rollups
from messaging.skips import SkipReason
from smsbot.celery import REPLIES_QUEUE, app
from subscribers.models import Subscriber
from tests.ops.factories import delivery_event, message, provider_call, seed_operations

pytestmark = pytest.mark.browser


def text(page, selector: str) -> str:  # type: ignore[no-untyped-def]
    return " ".join(page.locator(selector).inner_text().split())


def zone_where_it_is_8_am() -> str:
    """A fixed-offset zone where it is 08-something now: a 10:00 send is later today."""
    offset = (8 - datetime.now(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset  # Etc/GMT zones span -12 … +14 hours
    # Etc/GMT names count the other way round: Etc/GMT-3 is UTC+3.
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


def test_home_page_answers_the_days_questions_and_follows_the_send_by_itself(
    ops_visitor, celery_worker, settings, monkeypatch
):
    # Today's daily send is due at 10:00 in its own timezone, where it is 08-something.
    zone = zone_where_it_is_8_am()
    settings.DAILY_SEND_TIMEZONE = settings.OPS_TIMEZONE = zone
    settings.DAILY_SEND_TIME = "10:00"
    PeriodicTask.objects.filter(name=schedule.PERIODIC_TASK_NAME).delete()
    schedule.ensure_daily_schedule()
    # The console provider "delivers" a moment after each send; a slow rate.
    settings.SMS_PROVIDER = "console"
    settings.CONSOLE_DELIVERY_DELAY_SECONDS = 1.5
    settings.CONSOLE_FAILURE_PERCENT = 0
    settings.SMS_SEND_RATE = 2  # about 12 s for the demo audience: the page sees it move
    monkeypatch.setattr(dashboard, "LIVE_POLL_MS", 400)
    monkeypatch.setattr(dashboard, "WAITING_POLL_MS", 400)
    call_command("seed_demo")
    opted_in = Subscriber.objects.filter(consent_status="opted_in").count()
    # The demo's WhatsApp subscribers who have not written in 24 hours (no template): the
    # preview counts them, and the send skips them for that reason.
    outside = audience.skip_split().count(SkipReason.WHATSAPP_WINDOW)
    assert 0 < outside < Subscriber.objects.filter(channel="whatsapp").count()
    delivers = opted_in - outside
    page = ops_visitor.page

    ops_visitor.goto("/admin/")
    assert text(page, "#site-name") == "smsbot operations"
    assert text(page, "#content h1") == "Is everything all right today?"
    # Today's send: when (in its zone), and with what content.
    card = text(page, "#ops-daily")
    assert re.search(r"Starts at 10:00 [+-]?\w+ \(in [12] hours?", card), card
    assert daily.text_for(daily.local_today()).text[:30] in card
    # The next days' content, one of them missing, and its warning with a link.
    assert page.locator("#ops-upcoming .ops-missing").count() == 1
    banner = page.locator(".ops-alerts li.warning", has_text="No daily content")
    # A view-only Operations Manager is offered to see the content, not to add it.
    assert banner.get_by_role("link", name="See daily content").is_visible()
    assert banner.get_by_role("link", name="Add daily content").count() == 0
    # Subscribers, spend against the limit, delivery success over the demo week.
    assert text(page, "#ops-subscribers .ops-big") == f"{opted_in} opted in"
    assert re.search(r"\$[\d.]+ of \$100\.00 limit", text(page, "#ops-spend"))
    # (The pending demo number's confirmation may still await its report: the worker runs.)
    assert re.search(r"Last 7 days \d+\.\d% \d+ \d+ [01]\b", text(page, "#ops-delivery"))
    assert "Holiday hours (demo data)" in text(page, "#ops-adhoc")
    assert page.locator("svg.ops-chart").count() == 3

    # Beat starts today's send (as it will at the hour): the page notices by itself.
    loads = ops_visitor.loads
    app.send_task(task_names.START_DAILY_BROADCAST, queue=REPLIES_QUEUE)
    page.wait_for_selector("#ops-daily .ops-broadcast", timeout=20_000)
    page.wait_for_load_state("load")
    ops_visitor.landed()
    assert ops_visitor.loads == loads + 1  # one reload, when the send started

    # From here on the figures move without reloading the page.
    summary = '#ops-daily [data-live="progress"]'
    seen = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        adopt_early_reports()  # beat's minute sweep: a report that beat its send's record
        # The progress line and the Delivered figure: either moves while the page is open.
        now = (text(page, summary), text(page, '#ops-daily [data-live="delivered"]'))
        if not seen or seen[-1] != now:
            seen.append(now)
            if len(seen) == 2:
                ops_visitor.screenshot()  # mid-send
        # Done when every message is delivered (the page keeps asking while STOPs may
        # still count for the broadcast: BROADCAST_ATTRIBUTION_HOURS).
        delivered = now[1]  # the figure just recorded in seen, not a later read
        if delivered == str(delivers) and text(page, '#ops-daily [data-live="state"]') == "Done":
            break
        time.sleep(0.2)
    ops_visitor.screenshot()
    ops_visitor.check()
    assert ops_visitor.loads == loads + 1, "the page reloaded to follow the send"
    assert seen[-1] == (f"{opted_in} of {opted_in} processed (100%)", str(delivers)), seen
    assert len(seen) >= 2, seen  # it moved while the page stayed open
    assert text(page, '#ops-daily [data-live="delivered"]') == str(delivers)
    assert page.locator('#ops-daily [data-live="bar"]').evaluate("el => el.value == el.max")
    # Afterwards the card names those skipped by the preview's reason, as many as it said.
    ops_visitor.goto("/admin/")
    assert text(page, '#ops-daily [data-reason="whatsapp_window"]') == str(outside)
    assert text(page, '#ops-daily [data-live="state"]') == "Done"


def test_operator_reads_the_cost_report_chart_for_the_month(ops_visitor):
    call_command("seed_demo")
    today = rollups.today()
    # Spend today, with both providers, so this month's chart has its latest bars.
    for provider, channel, price in (("sns", "sms", "0.0120"), ("twilio", "whatsapp", "0.0050")):
        message(timezone.now(), provider=provider, channel=channel,
                price_estimated=Decimal(price), phone="+13125550190")  # fmt: skip
    page = ops_visitor.page
    ops_visitor.goto("/admin/")
    ops_visitor.follow(page.get_by_role("link", name="Cost report", exact=True))

    chart = page.locator("#cost-chart svg.ops-chart")
    assert chart.get_attribute("role") == "img"
    assert page.locator("#cost-chart .chart-title").text_content() == "Spend per day (USD)"
    # This month so far, a bar per provider and day, providers by their names.
    assert page.locator("#cost-chart rect.bar").count() == 2 * today.day
    legend = page.locator("#cost-chart text.legend").all_text_contents()
    assert legend == ["AWS SNS", "Twilio"]
    assert chart.bounding_box()["width"] > 900  # drawn at the page's width, readable
    # Each bar says its value (AWS SNS's bars first, then Twilio's).
    todays_sns = page.locator("#cost-chart a").nth(today.day - 1)
    day = f"{today:%a} {today.day} {today:%b}"  # the one clock's day on a chart
    assert re.fullmatch(rf"{day}: AWS SNS \$0\.\d+", todays_sns.locator("title").text_content())
    total = text(page, "#cost-total").split()[0]
    assert total == text(page, "#cost-report tfoot td:last-child")
    comparison = text(page, "#cost-comparison")
    assert re.search(r"Providers reported a price for \d+ of \d+ messages", comparison)

    # A bar leads to the messages behind it: today's AWS SNS ones.
    ops_visitor.follow(todays_sns)
    assert "provider__exact=sns" in page.url
    listed = page.locator("#result_list tbody tr")
    assert listed.count() >= 1
    # The list calls the provider by its short name.
    assert all("SNS SMS" in listed.nth(i).inner_text() for i in range(listed.count()))

    # Another range: last month, and a range typed in.
    page.go_back(wait_until="load")
    ops_visitor.landed()
    ops_visitor.follow(page.get_by_role("link", name="Last month"))
    first_of_last = (rollups.month_start(today) - timedelta(days=1)).replace(day=1)
    assert f"{first_of_last:%a} 1 {first_of_last:%b %Y}" in text(page, "#cost-total")
    page.fill("#id_start", str(first_of_last))
    page.fill("#id_end", str(today))
    ops_visitor.follow(page.get_by_role("button", name="Show"))
    assert page.locator("#cost-report tbody tr").count() >= 2
    assert page.get_by_role("link", name="Download CSV").is_visible()


def test_dashboard_figures_link_to_the_filtered_log(ops_visitor):
    seeded = seed_operations(timezone.localdate())
    rollups.refresh_recent()
    page = ops_visitor.page
    ops_visitor.goto("/admin/")

    charts = page.locator("svg.ops-chart")
    assert charts.count() == 3
    for i in range(3):
        chart = charts.nth(i)
        labelled_by = chart.get_attribute("aria-labelledby").split()
        # Labelled by its <title> and its <desc>, both with text.
        assert len(labelled_by) == 2
        assert all(page.locator(f"#{id_}").text_content() for id_ in labelled_by)
        assert chart.bounding_box()["height"] > 100  # drawn, not collapsed
    assert page.locator("#ops-spend-chart svg rect.bar").count() == 30
    assert "2 of 2 processed (100%)" in text(page, "#ops-daily")
    assert "Unreachable destination handset" in text(page, "#ops-failures")
    # The app list is still on the home page, below the dashboard.
    assert page.locator("#content-main .app-messaging").is_visible()

    ops_visitor.follow(page.locator("#ops-failures tbody a").first)
    assert "error_code=30003" in page.url
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("th a, td a").first.text_content().strip() == str(seeded["failed"].pk)
    # The error-code dropdown shows the filter as chosen; choosing another opens that list.
    dropdown = page.locator("#changelist-filter select.ops-filter-select")
    assert dropdown.locator("option:checked").inner_text().startswith("30003 – Unreachable")
    with page.expect_navigation(wait_until="load"):
        dropdown.select_option(label="No error code")
    ops_visitor.landed()
    assert "error_code=none" in page.url

    ops_visitor.goto("/admin/")
    ops_visitor.follow(page.locator("#ops-spend-chart svg a").last)
    assert "created_at__gte=" in page.url and "status__in=" in page.url
    assert page.locator("#result_list tbody tr").count() >= 2


def test_message_detail_renders_cleanly_with_times_named(ops_visitor):
    seeded = seed_operations(timezone.localdate())
    provider_call(seeded["failed"], outcome="retryable", http_status=200)
    delivery_event(seeded["failed"], "failed", error_code="30003")
    page = ops_visitor.page
    ops_visitor.goto(f"/admin/messaging/message/{seeded['failed'].pk}/change/")
    meaning = "Unreachable destination handset (off or out of coverage)"
    assert page.get_by_text(meaning).first.is_visible()
    assert page.locator("pre.ops-json").count() == 2  # the call's request and response
    assert page.get_by_role("link", name="Retry…").count() == 0  # read-only for this user
    # "Sun 6 Dec 2026, 06:14 CST": the one clock, in the operations timezone, named.
    assert re.search(r"at \w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d C[SD]T", text(page, ".ops-call"))
    assert Message.objects.count() == 4
