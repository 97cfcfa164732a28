"""What a broadcast caused: signed STOP, PAUSE and reply webhooks after a broadcast are
counted for it as they arrive, and show on its page, the dashboard and the Daily
content report (ranked by opt-out rate or reply rate)."""

import datetime as dt
import re
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messaging.broadcasts import daily
from messaging.models import Broadcast, BroadcastAttribution, DailyContent, Message
from subscribers.consent import change
from tests.ops.factories import message, ops_manager

pytestmark = pytest.mark.django_db

ALICE, BOB, CAROL, DAVE = "+13125550123", "+13125550124", "+13125550125", "+13125550126"


def daily_broadcast(day: date, text: str, phones: list[str], hours_ago: float) -> Broadcast:
    """A daily broadcast whose messages went to phones hours_ago (and were delivered)."""
    DailyContent.objects.create(date=day, text=text)
    broadcast = Broadcast.objects.create(
        idempotency_key=f"daily:{day.isoformat()}", name=f"Daily {day}", date=day, text=text,
        state="sending", fanout_done=True,
    )  # fmt: skip
    sent = timezone.now() - dt.timedelta(hours=hours_ago)
    for phone in phones:
        subscriber = change(phone, "opted_in", "admin", {"test": True}).subscriber
        message(
            sent, phone=phone, kind="broadcast", broadcast=broadcast, subscriber=subscriber,
            body=text, sent_at=sent,
        )  # fmt: skip
    return broadcast


@pytest.fixture
def ops() -> Client:
    client = Client()
    client.force_login(ops_manager())
    return client


def caused(broadcast: Broadcast) -> tuple[int, int, int]:
    row = BroadcastAttribution.objects.filter(broadcast=broadcast).first()
    return (row.replies, row.stops, row.pauses) if row else (0, 0, 0)


def test_stop_pause_and_replies_after_a_broadcast_count_for_it(twilio, settings, ops):
    today = daily.local_today()
    older = daily_broadcast(today - dt.timedelta(days=1), "Yesterday's thought", [ALICE], 30)
    newer = daily_broadcast(today, "Today's thought", [ALICE, BOB, CAROL, DAVE], 2)
    # Twilio answers STOP itself (TWILIO_OPT_OUT_HANDLING=twilio): recorded, TwiML empty.
    assert twilio.inbound("STOP", sender=ALICE, OptOutType="STOP").status_code == 200
    assert twilio.inbound("PAUSE", sender=BOB).status_code == 200
    assert twilio.inbound("thanks, lovely", sender=CAROL).status_code == 200
    # A second STOP from a number already out is no second opt-out: a reply.
    twilio.inbound("STOP", sender=ALICE, OptOutType="STOP")
    assert caused(newer) == (2, 1, 1)
    assert caused(older) == (0, 0, 0)  # its message went 30 hours ago: past the window
    stop = Message.objects.filter(direction="inbound", phone=ALICE).order_by("id").first()
    assert stop.after_broadcast == newer

    page = ops.get(reverse("admin:messaging_broadcast_change", args=[newer.pk]))
    html = page.content.decode()
    assert "What it caused" in html
    assert shown_caused(html, newer) == {
        "delivered": ("4", "(100.0%)"), "failed": ("0", "(0.0%)"), "replies": ("2", "(50.0%)"),
        "stops": ("1", "(25.0%)"), "pauses": ("1", "(25.0%)"),
    }  # fmt: skip

    dashboard = ops.get(reverse("admin:index")).content.decode()
    assert shown_caused(dashboard, newer)["stops"] == ("1", "(25.0%)")


def shown_caused(html: str, broadcast: Broadcast) -> dict[str, tuple[str, str]]:
    """What a page shows a broadcast caused: {key: (count, "(rate%)")}, by its live fields."""
    found = re.findall(
        rf'data-caused="(\w+)">\w+ <strong data-broadcast="{broadcast.pk}" '
        rf'data-live="caused-\1">(\d+)</strong> <span class="quiet" '
        rf'data-broadcast="{broadcast.pk}" data-live="caused-\1-rate">([^<]+)</span>',
        html,
    )
    return {key: (n, rate) for key, n, rate in found}


def test_what_a_broadcast_caused_moves_live_from_the_progress_view(twilio, ops):
    """The figures the page renders are the ones the progress view serves: a STOP that
    lands while the page is open reaches it through the JSON, and a broadcast that has
    finished keeps being asked about while STOPs may still count for it."""
    broadcast = daily_broadcast(daily.local_today(), "Today's thought", [ALICE, BOB], 1)
    Broadcast.objects.filter(pk=broadcast.pk).update(state="done", finished_at=timezone.now())
    page = ops.get(reverse("admin:messaging_broadcast_change", args=[broadcast.pk]))
    rendered = shown_caused(page.content.decode(), broadcast)
    assert rendered["stops"] == ("0", "(0.0%)")

    def live() -> dict:
        url = reverse("admin:messaging_broadcast_progress")
        answer = ops.get(url, {"id": broadcast.pk}, HTTP_ACCEPT="application/json")
        assert answer.status_code == 200
        return answer.json()["broadcasts"][0]

    before = live()
    assert before["live"]  # done, but inside BROADCAST_ATTRIBUTION_HOURS: still moving
    assert {k: (before["text"][f"caused-{k}"], before["text"][f"caused-{k}-rate"])
            for k in rendered} == rendered  # fmt: skip

    assert twilio.inbound("STOP", sender=ALICE, OptOutType="STOP").status_code == 200
    after = live()
    assert (after["text"]["caused-stops"], after["text"]["caused-stops-rate"]) == ("1", "(50.0%)")
    again = shown_caused(ops.get(page.wsgi_request.path).content.decode(), broadcast)
    assert {k: (after["text"][f"caused-{k}"], after["text"][f"caused-{k}-rate"])
            for k in again} == again  # fmt: skip

    # Past the window nothing more counts for it: the page stops asking.
    Broadcast.objects.filter(pk=broadcast.pk).update(
        finished_at=timezone.now() - dt.timedelta(hours=25)
    )
    assert not live()["live"]


def test_the_window_is_a_setting(twilio, settings):
    settings.BROADCAST_ATTRIBUTION_HOURS = 48
    broadcast = daily_broadcast(daily.local_today(), "Hello", [ALICE], 30)
    twilio.inbound("STOP", sender=ALICE, OptOutType="STOP")
    assert caused(broadcast) == (0, 1, 0)


def test_the_content_report_ranks_days_by_opt_out_rate_and_reply_rate(twilio, ops):
    today = daily.local_today()
    calm = daily_broadcast(today - dt.timedelta(days=3), "A calm thought", [CAROL, DAVE], 50)
    twilio.inbound("lovely", sender=CAROL)  # 50 hours later: no one's reply
    harsh = daily_broadcast(today, "A harsh thought", [ALICE, BOB], 1)
    twilio.inbound("STOP", sender=ALICE, OptOutType="STOP")
    nice = daily_broadcast(today - dt.timedelta(days=1), "A nice thought", [], 0)
    # Yesterday's messages went to Carol and Dave an hour ago (quiet hours held them).
    for phone in (CAROL, DAVE):
        message(
            timezone.now() - dt.timedelta(hours=1), phone=phone, kind="broadcast",
            broadcast=nice, sent_at=timezone.now() - dt.timedelta(hours=1),
        )  # fmt: skip
    twilio.inbound("love it", sender=CAROL)
    twilio.inbound("PAUSE 3", sender=DAVE)

    url = reverse("admin:messaging_dailycontent_report")
    period = {"start": (today - dt.timedelta(days=7)).isoformat(), "end": today.isoformat()}
    page = ops.get(url, period)
    assert page.status_code == 200
    html = page.content.decode()
    days = [r.day for r in page.context["report"].rows]
    assert days == [harsh.date, nice.date, calm.date]
    assert "<svg" in html and "opt-out rate" in html
    assert 'data-rate="stops">50.0%' in html

    by_replies = ops.get(url, {**period, "order": "replies"}).context["report"].rows
    assert by_replies[0].day == nice.date
    assert by_replies[0].caused.reply_rate == 50.0 and by_replies[0].caused.pause_rate == 50.0

    # A hostile period is a form error, not a 5xx; the page still answers.
    bad = ops.get(url, {"start": "2026-13-40", "end": "x", "order": "<script>"})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
