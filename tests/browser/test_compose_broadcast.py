"""An Operations Manager composes, previews, tests, schedules and sends broadcasts in Chromium.

A real Celery worker sends (console provider) and the pages follow the
progress without being reloaded.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging import task_names
from messaging.billing import segments
from messaging.models import Broadcast, BroadcastState, Message, MessageKind, MessageStatus
from smsbot import timezones
from smsbot.celery import REPLIES_QUEUE, app

# The pipeline's own clean slate: an empty cache (spend, progress throttles) and no
# send threads left holding database connections after the test.
from tests.messaging.pipeline.conftest import _clean_cache, opted_in, wait_for  # noqa: F401
from tests.ops.factories import OPERATOR_PERMISSIONS, OPS_PASSWORD, ops_manager

pytestmark = pytest.mark.browser

STAFF_PHONE = "+13125550199"


@pytest.fixture
def operator(visitor, transactional_db):  # type: ignore[no-untyped-def]
    """An Operations Manager with the broadcast permissions the group has, logged in."""
    visitor.page.set_viewport_size({"width": 1440, "height": 900})
    user = ops_manager("ops", extra_permissions=OPERATOR_PERMISSIONS)
    visitor.log_in(user.username, OPS_PASSWORD)
    return visitor


def counter_text(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("#compose-counter").inner_text()


def test_compose_preview_test_send_and_watch_it_complete(operator, celery_worker, settings):
    settings.CONSOLE_FAILURE_PERCENT = 0  # every report "delivered": the counts add up to 5
    opted_in(4)
    opted_in(2, start=150, channel="whatsapp")
    opted_in(1, start=199)  # the operator's own phone, opted in like anyone's
    page = operator.page

    operator.goto("/admin/messaging/broadcast/")
    operator.follow(page.get_by_role("link", name="Compose a broadcast"))
    # Only what an operator sets: none of the broadcast's internals.
    form_text = page.locator("#broadcast_form").inner_text()
    for internal in ("Idempotency", "Cursor", "Fanout", "Total", "Created by"):
        assert internal not in form_text
    page.fill("#id_name", "Opening hours")
    page.fill("#id_text", "We open at 9 tomorrow.")
    assert "22 characters · GSM-7 · 1 segment per SMS · 7 recipients" in counter_text(page)
    # A curly apostrophe forces UCS-2: the counter says so as it is typed.
    page.fill("#id_text", "We’re open at 9 tomorrow. " * 3)
    text = counter_text(page)
    assert "78 characters · UCS-2 · 2 segments per SMS" in text
    assert "Forced into UCS-2 (70 characters a segment) by: curly quote ’" in text
    operator.screenshot()
    page.fill("#id_text", "We open at 9 tomorrow. See you there!")
    page.select_option("#id_channel", "sms")
    # The console is priced as the provider it stands in for: the preview's cost, as typed.
    projected = re.search(
        r"1 segment per SMS · 5 recipients \(5 SMS\) · projected ([\d.]+) USD", counter_text(page)
    )
    assert projected and projected.group(1) != "0.0000", counter_text(page)
    operator.screenshot()
    operator.follow(page.get_by_role("button", name="Preview ›"))
    assert page.locator("#cost").inner_text() == f"{projected.group(1)} USD"

    broadcast = Broadcast.objects.get(name="Opening hours")
    assert broadcast.state == BroadcastState.DRAFT
    assert page.locator("#recipients").inner_text() == "5"
    assert page.locator("#segments").inner_text() == "1"

    # A test to a number that never opted in is refused, on the page, with the reason.
    page.fill("#id_phone", "(312) 555-0188")
    operator.follow(page.get_by_role("button", name="Send test"))
    assert "+13125550188 is not a subscriber" in page.locator(".errorlist").inner_text()
    page.fill("#id_phone", "(312) 555-0199")
    operator.follow(page.get_by_role("button", name="Send test"))
    assert "Test queued to +13125550199" in page.locator(".messagelist").inner_text()
    test = Message.objects.get(kind=MessageKind.TEST)
    assert test.test_of == broadcast and test.broadcast is None and test.phone == STAFF_PHONE
    wait_for(
        lambda: Message.objects.get(pk=test.pk).status == MessageStatus.SENT,
        what="the test to be sent by the worker",
    )

    loads = operator.loads
    operator.follow(page.get_by_role("button", name="Send now to 5 recipients"))
    # One more step before it goes: the count, the cost and when it ends.
    confirm = page.locator("#content-main").inner_text()
    assert "Recipients\t5" in confirm and "Estimated cost" in confirm
    assert "Projected finish" in confirm
    assert broadcast.state == "draft" and not Message.objects.filter(broadcast=broadcast).exists()
    operator.screenshot()
    operator.follow(page.get_by_role("button", name="Confirm: send now to 5 recipients"))
    assert page.url.endswith(f"/admin/messaging/broadcast/{broadcast.pk}/change/")
    loads = operator.loads
    # The page follows the worker until the broadcast is done, without a reload.
    page.locator('[data-live="state"]', has_text="Done").wait_for()
    assert page.locator('[data-live="progress"]').inner_text() == "5 of 5 processed (100%)"
    # Sent and awaiting a report, or already reported delivered: each counted once.
    sent = page.locator('strong[data-live="sent"]').inner_text()
    delivered = page.locator('strong[data-live="delivered"]').inner_text()
    assert int(sent) + int(delivered) == 5
    assert not page.get_by_role("button", name="Pause").is_visible()
    assert operator.loads == loads
    operator.screenshot()
    broadcast.refresh_from_db()
    assert (broadcast.state, broadcast.total, broadcast.sent) == (BroadcastState.DONE, 5, 5)
    # The test is none of the broadcast's five, and the operator's phone still got its own.
    assert broadcast.messages.filter(phone=STAFF_PHONE).count() == 1
    assert "Test sends" in page.locator("#content-main").inner_text()

    operator.follow(page.get_by_role("link", name="Its messages"))
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 5
    operator.follow(rows.first.locator("th a, td a").first)
    operator.follow(page.get_by_role("link", name="Opening hours"))
    assert page.url.endswith(f"/admin/messaging/broadcast/{broadcast.pk}/change/")


def test_schedule_for_later_then_beat_starts_it_and_the_list_follows(operator, celery_worker):
    opted_in(3)
    page = operator.page
    operator.goto("/admin/messaging/broadcast/add/")
    page.fill("#id_name", "Holiday notice")
    page.fill("#id_text", "Closed on Monday.")
    later = (timezone.now() + timedelta(hours=2)).astimezone(timezones.ops_zone())
    page.fill("#id_scheduled_for", later.strftime("%Y-%m-%d %H:%M"))  # ISO, 24-hour
    help_text = page.locator("#id_scheduled_for_helptext").inner_text()
    assert f"Times in {timezones.ops_zone().key}" in help_text  # named where it is typed
    operator.follow(page.get_by_role("button", name="Preview ›"))
    shown = timezones.shown(later.replace(second=0, microsecond=0))
    operator.follow(page.get_by_role("button", name=f"Schedule for {shown}"))
    assert shown in page.locator("#confirm-starts").inner_text()
    operator.follow(page.get_by_role("button", name="Confirm: schedule", exact=False))

    broadcast = Broadcast.objects.get(name="Holiday notice")
    assert broadcast.state == BroadcastState.SCHEDULED
    assert broadcast.scheduled_for == later.replace(second=0, microsecond=0)
    assert page.locator('[data-live="state"]').inner_text() == f"Scheduled for {shown}"

    operator.goto("/admin/messaging/broadcast/")
    row = page.locator("#result_list tbody tr", has_text="Holiday notice")
    assert f"Scheduled for {shown}" in row.inner_text()
    loads = operator.loads
    # Time passes; beat's due check fires (twice, as two beats would): it starts once.
    Broadcast.objects.filter(pk=broadcast.pk).update(
        scheduled_for=timezone.now() - timedelta(seconds=1)
    )
    for _ in range(2):
        app.send_task(task_names.START_DUE_BROADCASTS, queue=REPLIES_QUEUE)
    row.locator('[data-live="state"]', has_text="Done").wait_for(timeout=30_000)
    assert "3 of 3 processed (100%)" in row.inner_text()
    assert operator.loads == loads  # the list moved by itself
    operator.screenshot()
    assert Message.objects.filter(broadcast=broadcast).count() == 3


def counted(page, text: str) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    page.fill("#id_text", text)
    found = re.search(r"· (GSM-7|UCS-2) · (\d+) segments? per SMS", counter_text(page))
    assert found, counter_text(page)
    return found.group(1), int(found.group(2))


# Texts where the live counter and messaging.billing.segments must agree.
AGREEING = [
    "", "Hello", "a" * 160, "a" * 161, "a" * 306, "a" * 307, "{" * 80, "{" * 81,
    "Don’t miss it", "ж" * 70, "ж" * 71, "ж" * 134, "ж" * 135, "Hi 😀", "😀" * 35, "😀" * 36,
    "line\nbreak\r\n", "\u00a0non-breaking", "Grüße aus Köln €5",
]  # fmt: skip
# Where a part would end inside an escape pair or a surrogate pair, the pair moves
# whole to the next part (153 septets / 67 code units a part).
UNSPLIT_PAIRS = [
    ("a" * 152 + "€" + "a" * 152, ("GSM-7", 3)),
    ("a" * 152 + "€" * 76, ("GSM-7", 2)),
    ("ж" * 66 + "😀" + "ж" * 66, ("UCS-2", 3)),
    ("😀" * 33 + "ж" + "😀" * 33, ("UCS-2", 2)),
]


def test_the_live_counter_counts_as_the_server_does(operator, settings):
    settings.SMS_PROVIDER = "sns"
    opted_in(3)
    opted_in(2, start=150, channel="whatsapp")
    page = operator.page
    operator.goto("/admin/messaging/broadcast/add/")
    for text in AGREEING:
        info = segments.count(text)
        assert counted(page, text) == (info.encoding, info.segments), repr(text)
        for warning in info.warnings:
            assert warning[0].upper() + warning[1:] in counter_text(page), repr(text)
    for text, expected in UNSPLIT_PAIRS:
        assert counted(page, text) == expected, repr(text)

    # The projected cost is the preview's: 3 SMS × 2 segments (SNS) and 2 WhatsApp
    # templates (Twilio), as the ContentSid is typed.
    page.fill("#id_name", "Costed")
    page.fill("#id_text", "Big news: we’re live! " + "More text. " * 8)
    page.fill("#id_whatsapp_content_sid", "HX0123456789abcdef0123456789abcdef")
    projected = re.search(r"projected ([\d.]+) USD", counter_text(page)).group(1)
    assert "5 recipients (3 SMS + 2 WhatsApp)" in counter_text(page)
    operator.follow(page.get_by_role("button", name="Preview ›"))
    assert page.locator("#cost").inner_text() == f"{projected} USD" == "0.0887 USD"


def test_leaving_a_page_while_it_asks_for_progress_is_clean(operator):
    Broadcast.objects.create(
        idempotency_key="adhoc:l", name="Long one", text="Hi", state=BroadcastState.SENDING
    )
    page = operator.page
    held = []
    page.route("**/broadcast/progress/**", lambda route: held.append(route))  # never answered
    operator.goto("/admin/messaging/broadcast/")
    page.wait_for_timeout(2500)
    assert held, "the list asked for progress"
    operator.goto("/admin/")  # the question in flight is dropped, and that is no error
