"""The admin home as an operations dashboard, through the admin's own views."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from messaging.broadcasts import schedule
from messaging.models import Broadcast, DailyContent
from messaging.reports import dashboard, figures, rollups
from tests.ops.factories import at, message, seed_operations

pytestmark = pytest.mark.django_db
LIVE = "/admin/messaging/broadcast/progress/"


def links(html: str) -> dict[str, str]:
    """Visible text of each link -> its href (tags inside the link dropped)."""
    found = {}
    for href, inner in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', html, re.S):
        text = " ".join(re.sub(r"<[^>]+>", "", inner).split())
        found[text] = unescape(href)
    return found


def section(html: str, element_id: str) -> str:
    """The HTML of the dashboard card with that id (up to the next card)."""
    start = html.index(f'id="{element_id}"')
    following = html.find('class="module ops-', start + 1)
    return html[start : following if following != -1 else len(html)]


def test_empty_database_shows_friendly_placeholders(ops_client):
    response = ops_client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Is everything all right today?",
        "No other broadcast in the last 7 days.",
        "No spend yet this month.",
        "no data yet",
        "No failures in the last 7 days.",
        "No per-number spend computed yet this month.",
        "All figures computed live.",
    ):
        assert text in html
    # A fresh install needs no command to be run.
    assert "refresh_rollups" not in html
    assert html.count('<svg class="ops-chart"') == 3  # subscribers, opt-ins/outs, spend
    # The app list is still there, below the dashboard.
    assert 'id="apps"' in html and "/admin/messaging/message/" in html


def test_dashboard_figures_link_to_the_filtered_lists_behind_them(ops_client):
    today = timezone.localdate()
    seeded = seed_operations(today)
    rollups.refresh_recent()
    html = ops_client.get("/admin/").content.decode()
    found = links(html)

    # Month-to-date spend: delivered 0.0083 + read (actual) 0.0042 (+ yesterday's if this month).
    spend_link = next(href for text, href in found.items() if text.startswith("$"))
    listed = ops_client.get(spend_link)
    assert listed.status_code == 200
    shown = set(listed.context["cl"].result_list)
    assert seeded["delivered"] in shown and seeded["whatsapp"] in shown
    assert seeded["failed"] not in shown

    # Failures by error code, with the code's meaning, link to those failures.
    assert "Unreachable destination handset" in html
    failure_link = next(h for h in found.values() if "error_code=30003" in h)
    assert list(ops_client.get(failure_link).context["cl"].result_list) == [seeded["failed"]]

    # Today's daily send: progress, and figures linking to its messages by status.
    card = section(html, "ops-daily")
    progress = "2 of 2 processed (100%) — still adding recipients"
    assert progress in card and f'data-broadcast="{seeded["broadcast"].pk}"' in card
    failed_of_broadcast = links(card)["Failed: 1"]
    assert "outcome=failed" in failed_of_broadcast
    assert f"broadcast__id__exact={seeded['broadcast'].pk}" in failed_of_broadcast
    assert list(ops_client.get(failed_of_broadcast).context["cl"].result_list) == [seeded["failed"]]

    # Active subscribers by channel link to those subscribers.
    subscribers = links(section(html, "ops-subscribers"))
    assert "SMS: 2" in subscribers and "WhatsApp: 0" in subscribers
    opted_in_sms = ops_client.get(subscribers["SMS: 2"]).context["cl"].result_list
    assert {s.phone for s in opted_in_sms} == {"+13125550101", "+13125550102"}

    # Top numbers link to the log searched by that number.
    top = found["+13125550101"]
    result = ops_client.get(top).context["cl"].result_list
    assert {m.phone for m in result} == {"+13125550101"}

    # The charts are labelled SVG with a title and a description.
    assert len(re.findall(r'<svg class="ops-chart"[^>]*role="img"', html)) == 3
    assert "<title id=" in html and "<desc id=" in html
    assert "Opt-ins: total 3" in html and "Opt-outs: total 1" in html
    # Providers by the names operators know them by.
    assert "<td>Twilio</td><td>WhatsApp</td>" in section(html, "ops-by-provider")


def test_ad_hoc_broadcasts_are_shown_apart_from_the_daily_send(ops_client):
    Broadcast.objects.create(
        idempotency_key="adhoc:1", name="Holiday hours", text="Closed Monday", state="sending"
    )
    html = ops_client.get("/admin/").content.decode()
    assert "Holiday hours" in section(html, "ops-adhoc")
    assert "Holiday hours" not in section(html, "ops-daily")


def test_daily_card_says_when_it_runs_what_it_sends_and_what_is_missing(settings):
    settings.DAILY_FALLBACK_TEXT = ""
    PeriodicTask.objects.filter(name=schedule.PERIODIC_TASK_NAME).delete()
    schedule.ensure_daily_schedule()  # 10:00 America/Chicago
    day = datetime(2026, 11, 28).date()
    DailyContent.objects.create(date=day, text="Today's tip")
    content = dashboard.content_card(figures.upcoming_content(day, 1)[0])
    assert content["text"] == "Today's tip" and not content["missing"]

    morning = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)  # 8 a.m. in Chicago
    card = dashboard.daily_send(day, content, now=morning)
    assert card["runs_today"] and not card["missed"]
    assert card["next"] == {
        "at": "Sat 28 Nov 2026, 10:00 CST",
        "time": "10:00 CST",
        "until": "2\xa0hours",
    }

    evening = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)  # 4 p.m.: the time passed, no broadcast
    card = dashboard.daily_send(day, content, now=evening)
    assert card["missed"] and card["next"]["at"].startswith("Sun 29 Nov 2026")

    PeriodicTask.objects.filter(name=schedule.PERIODIC_TASK_NAME).update(enabled=False)
    card = dashboard.daily_send(day, content, now=morning)
    assert not card["enabled"] and card["next"] is None

    missing = dashboard.content_card(figures.upcoming_content(day + timedelta(days=1), 1)[0])
    assert missing["missing"]
    assert missing["url"].endswith(f"/admin/messaging/dailycontent/add/?date={day + timedelta(1)}")


def test_next_run_follows_the_crontab_in_its_own_zone_across_dst():
    crontab = CrontabSchedule(minute="0", hour="10", timezone="America/Chicago")
    task = PeriodicTask(name="daily", crontab=crontab, enabled=True)
    # 10:00 CDT is 15:00 UTC on the Sunday DST starts; 16:00 UTC the day before.
    (before,) = schedule.crontab_runs(task.crontab, 1, datetime(2026, 3, 7, 17, 0, tzinfo=UTC))
    assert before.astimezone(UTC) == datetime(2026, 3, 8, 15, 0, tzinfo=UTC)
    weekdays = CrontabSchedule(minute="30", hour="9", day_of_week="1-5", timezone="Europe/London")
    task = PeriodicTask(name="weekdays", crontab=weekdays, enabled=True)
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert schedule.crontab_runs(task.crontab, 1, saturday) == [
        datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    ]


def test_live_figures_of_a_sending_broadcast_as_json(ops_client):
    seeded = seed_operations(timezone.localdate())
    pk = seeded["broadcast"].pk
    data = ops_client.get(LIVE, {"id": str(pk), "daily": "1"}).json()
    assert data["daily_started"] is True
    (shown,) = data["broadcasts"]
    assert shown["id"] == pk and shown["live"] is True and shown["percent"] == 100
    assert shown["text"]["progress"] == "2 of 2 processed (100%) — still adding recipients"
    counts = {
        k: shown["text"][k]
        for k in (
            "total",
            "queued",
            "held",
            "sent",
            "delivered",
            "failed",
            "skipped",
            "needs_review",
        )
    }
    assert counts == {
        "total": "2", "queued": "0", "held": "0", "sent": "0", "delivered": "1", "failed": "1",
        "skipped": "0", "needs_review": "0",
    }  # fmt: skip

    Broadcast.objects.filter(pk=pk).update(state="done", fanout_done=True)
    message(timezone.now(), broadcast=seeded["broadcast"], kind="broadcast", status="sent",
            phone="+13125550109")  # fmt: skip
    # Done, but a message still awaits its delivery report: the shown may still move.
    (shown,) = ops_client.get(LIVE, {"id": str(pk)}).json()["broadcasts"]
    assert shown["live"] is True and shown["text"]["sent"] == "1"


def test_live_figures_refuse_bad_ids_and_people_without_the_permission(ops_client):
    response = ops_client.get(LIVE, {"id": ["1", "two"]})
    assert response.status_code == 400 and "broadcast id" in response.json()["error"]
    assert ops_client.get(LIVE, {"id": ["1"] * 101}).status_code == 400
    clerk = get_user_model().objects.create_user("clerk", password="x-0123456789", is_staff=True)
    client = Client()
    client.force_login(clerk)
    assert client.get(LIVE).status_code == 403


def test_staff_without_message_permission_sees_no_figures():
    user = get_user_model().objects.create_user("clerk", password="x-0123456789", is_staff=True)
    client = Client()
    client.force_login(user)
    html = client.get("/admin/").content.decode()
    assert "ops-dashboard" not in html and "Spend this month" not in html


def test_dashboard_query_count_does_not_grow_with_data(ops_client, django_assert_max_num_queries):
    today = timezone.localdate()
    seed_operations(today)
    rollups.refresh_recent()
    # 35 queries, none per row: session, user, 2 permission reads; rollup freshness,
    # coverage, rollup facts, 2 live-day facts, consent per day, top numbers; the
    # schedule's timezone (once: schedule.read_once), today's content, month spend,
    # the upcoming days' content; banners: stale needs-review, paused broadcasts, held
    # confirmations, muted numbers, AWS opt-out review, unknown outcomes; the daily
    # card: task exists, 2 task reads, today's broadcast start, its content, the
    # broadcast, its counts, its counts by channel, attribution, skip reasons; ad hoc
    # broadcasts; subscribers
    # per channel and their consent per day; recent admin actions.
    with django_assert_max_num_queries(35) as first:
        assert ops_client.get("/admin/").status_code == 200
    for days_ago in range(1, 40):
        message(at(today - timedelta(days=days_ago)), phone=f"+131255501{days_ago % 50:02d}")
    rollups.refresh(today - timedelta(days=40), today)
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert ops_client.get("/admin/").status_code == 200


def test_days_are_utc_days_whatever_zone_the_admin_shows(ops_client):
    """At 00:30 UTC it is still yesterday evening in Chicago: the reports count UTC days,
    also on admin pages, where Chicago is the current zone, and the links agree."""
    today = rollups.today()
    msg = message(rollups.day_start(today) + timedelta(minutes=30))
    with timezone.override(ZoneInfo("America/Chicago")):
        facts = figures.load_facts(today - timedelta(days=1), today + timedelta(days=1))
        assert [(f.day, f.messages) for f in facts] == [(today, 1)]
        todays_bar = dashboard.billed_url(today, today + timedelta(days=1))
    assert list(ops_client.get(todays_bar).context["cl"].result_list) == [msg]
    assert "days and months in UTC" in ops_client.get("/admin/").content.decode()
