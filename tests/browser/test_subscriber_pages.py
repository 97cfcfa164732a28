"""An Operations Manager's subscriber tasks in Chromium at 1440×900.

Find a number's consent history; opt a subscriber out and back in from its
page; read a conversation; import a CSV with a bad row and fix it; export
filtered subscribers and import the file again with no change. Every page is
screenshotted (test-artifacts/<test>/) and fails on a JavaScript error, a
failed asset or a list wider than the window.
"""

import csv
import io
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.utils import timezone

from messaging.models import Message
from subscribers import exporting
from subscribers.consent import change
from subscribers.models import ConsentEvent, Conversation, Subscriber
from tests.browser.conftest import Visitor
from tests.ops.factories import OPS_PASSWORD, VIEW_PERMISSIONS, message, ops_manager

pytestmark = pytest.mark.browser

WINDOW = {"width": 1440, "height": 900}
NUMBER = "+13125550123"
CHANGE = ("subscribers.change_subscriber",)


def wide(visitor: Visitor, *permissions: str) -> Visitor:
    """Logged in as an Operations Manager with exactly these extra permissions, on a laptop."""
    visitor.page.set_viewport_size(WINDOW)
    extra = ("subscribers.view_conversation", *permissions)
    user = ops_manager("ops", extra_permissions=extra)
    # The group may still hold what the data migration gave it: exactly these, no more.
    user.groups.get().permissions.set(
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in (name.split(".") for name in (*VIEW_PERMISSIONS, *extra))
    )
    visitor.log_in(user.username, OPS_PASSWORD)
    return visitor


def fits_the_window(visitor: Visitor) -> None:
    page = visitor.page
    assert page.evaluate("document.documentElement.scrollWidth") <= WINDOW["width"]
    # A changelist scrolls sideways inside its own box rather than the page's.
    overflow = page.evaluate(
        "[...document.querySelectorAll('#changelist .results')]"
        ".map(box => box.scrollWidth - box.clientWidth)"
    )
    assert all(extra <= 0 for extra in overflow), f"the list is wider than its box by {overflow}"


def a_subscriber_with_a_story() -> Subscriber:
    """Signed up on the web, confirmed by YES, talked to the bot; messages of every kind."""
    change(
        NUMBER,
        "pending",
        "web_form",
        {"ip": "192.0.2.10", "user_agent": "Firefox", "consent_text": "I agree", "form": {}},
    )
    subscriber = change(
        NUMBER,
        "opted_in",
        "sms_keyword",
        {"text": "yes", "message_id": "SM0001", "from": NUMBER, "to": "+13125550199"},
    ).subscriber
    Conversation.objects.create(
        phone_number=NUMBER,
        conversation_state="subscribed",
        message_count=2,
        last_message="What time does it come?",
        last_response="Every day at 10:00 Chicago time.",
        user_context={"name": "Dana", "topic": "daily"},
    )
    start = timezone.now() - timedelta(days=2)
    story = [
        ("inbound", "inbound", "received", "Hi, I'd like the daily message", ""),
        ("outbound", "confirmation", "delivered", "Reply YES to confirm your subscription.", ""),
        ("inbound", "inbound", "received", "YES", ""),
        ("outbound", "compliance", "delivered", "You are subscribed to daily messages.", ""),
        ("outbound", "broadcast", "delivered", "Today's tip: drink water.", ""),
        ("inbound", "inbound", "received", "What time does it come?", ""),
        ("outbound", "reply", "failed", "Every day at 10:00 Chicago time.", "30003"),
        ("outbound", "broadcast", "queued", "Tomorrow's tip: stretch.", ""),
    ]
    for n, (direction, kind, status, body, code) in enumerate(story):
        message(
            start + timedelta(hours=n * 3),
            direction=direction,
            kind=kind,
            status=status,
            body=body,
            error_code=code,
            phone=NUMBER,
            subscriber=subscriber,
        )
    return subscriber


def test_find_a_numbers_consent_history(visitor, transactional_db):
    a_subscriber_with_a_story()
    change("+13125550124", "opted_in", "import", {"file": "fair.csv", "row": 2, "evidence": "fair"})
    wide(visitor)
    page = visitor.page

    visitor.goto("/admin/subscribers/consentevent/")
    fits_the_window(visitor)
    assert page.locator("#result_list tbody tr").count() == 3  # every event, no search needed
    page.fill("#searchbar", "(312) 555-0123")
    visitor.follow(page.locator("#changelist-search input[type=submit]"))
    fits_the_window(visitor)
    lines = page.locator("#result_list .field-what_happened").all_inner_texts()
    assert lines == ["Opted in by SMS keyword YES", "Signed up (awaiting YES) on the web form"]

    visitor.follow(page.locator("#result_list td.field-number a").first)
    assert page.locator("h1").inner_text() == NUMBER  # the number itself, not masked
    assert page.locator(".consent-actions").count() == 0  # viewing changes nothing
    assert "******" not in page.inner_text("#content")
    history = page.locator(".consent-history li")
    assert history.count() == 2
    first = history.first
    assert first.locator(".consent-line").inner_text().startswith("Opted in by SMS keyword YES, ")
    assert not first.locator("dl").is_visible()
    first.locator("summary", has_text="Evidence").click()
    assert first.locator("dl").is_visible()
    assert "SM0001" in first.locator("dl").inner_text()
    visitor.screenshot()


def test_opt_a_subscriber_out_and_back_in_from_its_page(visitor, transactional_db):
    subscriber = a_subscriber_with_a_story()
    wide(visitor, *CHANGE)
    page = visitor.page
    visitor.goto(f"/admin/subscribers/subscriber/{subscriber.pk}/change/")
    assert page.locator(".consent-badge").inner_text() == "Opted in"

    opt_out = page.locator("details#consent-opted_out")
    opt_out.locator("summary").click()
    opt_out.locator("textarea").fill("asked by phone, ticket 42")
    visitor.screenshot()
    visitor.follow(opt_out.locator("input[type=submit]"))
    assert "opted out" in page.inner_text(".messagelist")
    assert page.locator(".consent-badge").inner_text() == "Opted out"
    newest = page.locator(".consent-history li .consent-line").first.inner_text()
    assert newest.startswith('Opted out by ops in the admin: "asked by phone, ticket 42", ')

    # Blank evidence is refused on the server too, and nothing changes.
    opt_in = page.locator("details#consent-opted_in")
    opt_in.locator("summary").click()
    opt_in.locator("textarea").fill("   ")
    visitor.follow(opt_in.locator("input[type=submit]"))
    assert "Nothing changed" in page.inner_text(".messagelist")
    assert page.locator(".consent-badge").inner_text() == "Opted out"

    opt_in = page.locator("details#consent-opted_in")
    opt_in.locator("summary").click()
    opt_in.locator("textarea").fill("signed paper form, 2026-11-02")
    visitor.follow(opt_in.locator("input[type=submit]"))
    assert page.locator(".consent-badge").inner_text() == "Opted in"

    # Recorded as the list actions record it: consent evidence, then the audit trail.
    out, back_in = ConsentEvent.objects.filter(source="admin").order_by("id")
    assert out.evidence == {
        "admin_user": "ops",
        "admin_user_id": out.evidence["admin_user_id"],
        "reason": "asked by phone, ticket 42",
    }
    assert back_in.evidence["evidence"] == "signed paper form, 2026-11-02"
    audit = list(
        LogEntry.objects.filter(object_id=str(subscriber.pk))
        .order_by("id")
        .values_list("change_message", flat=True)
    )
    assert audit == [
        "Opted out: consent_status: opted_in → opted_out (asked by phone, ticket 42)",
        "Opted back in: consent_status: opted_out → opted_in (signed paper form, 2026-11-02)",
    ]


def test_read_a_conversation(visitor, transactional_db):
    subscriber = a_subscriber_with_a_story()
    Conversation.objects.create(phone_number="+13125550177", last_message="Menu " * 30)
    wide(visitor)
    page = visitor.page
    visitor.goto("/admin/subscribers/conversation/")
    fits_the_window(visitor)
    assert page.locator("#result_list tbody tr").count() == 2
    visitor.follow(page.locator("#result_list .field-number a", has_text=NUMBER))
    assert page.url.endswith(f"/admin/subscribers/subscriber/{subscriber.pk}/change/")
    # A view-only user gets no consent buttons.
    assert page.locator(".consent-actions").count() == 0
    assert "Bot state subscribed" in page.inner_text(".conversation-state")

    bubbles = page.locator(".message-thread .bubble")
    # The story's eight, and the confirmation its web sign-up really queued.
    assert bubbles.count() == Message.objects.filter(phone=NUMBER).count() == 9
    assert bubbles.first.locator(".bubble-text").inner_text() == "Hi, I'd like the daily message"
    assert "bubble-in" in bubbles.first.get_attribute("class")
    failed = bubbles.nth(6)
    assert "bubble-out" in failed.get_attribute("class")
    assert failed.locator(".bubble-status").inner_text() == "Failed"
    assert failed.locator(".bubble-problem").inner_text().startswith("30003: Unreachable")
    assert bubbles.nth(7).locator(".bubble-status").inner_text() == "Queued"
    # Inbound left, outbound right.
    left = bubbles.first.bounding_box()["x"]
    right = failed.bounding_box()
    assert right["x"] + right["width"] > left + 300

    page.locator(".conversation-context summary").click()
    assert "Dana" in page.inner_text(".conversation-context dl")
    visitor.screenshot()

    visitor.follow(failed.locator(".bubble-status"))
    failed_message = Message.objects.get(status="failed")
    assert page.url.endswith(f"/admin/messaging/message/{failed_message.pk}/change/")


def test_import_a_csv_with_a_bad_row_then_fix_it(visitor, transactional_db, tmp_path, settings):
    settings.SMS_PROVIDER = "twilio"  # confirmations are priced at Twilio's rates
    wide(visitor, *CHANGE)
    page = visitor.page
    visitor.goto("/admin/subscribers/subscriber/")
    visitor.follow(page.locator("a.import_link"))
    columns = page.locator(".import-columns-table tbody tr td:first-child").all_inner_texts()
    assert columns == [
        "phone",
        "evidence",
        "channel",
        "consent_status",
        "timezone",
        "email",
        "email_status",
    ]
    assert "required" in page.locator(".import-columns-table tbody tr").nth(1).inner_text()

    with page.expect_download() as download:
        page.locator("a", has_text="Download a template").click()
    template = Path(download.value.path()).read_text()
    assert template.splitlines()[0] == "phone,evidence,channel,consent_status,timezone,email"

    bad = tmp_path / "signups.csv"
    bad.write_text(
        "phone,evidence,channel,consent_status\n"
        "+13125550101,paper form at the fair,sms,\n"
        "+13125550102,paper form at the fair,pigeon,\n"
        "+13125550103,website form,sms,pending\n"
    )
    page.set_input_files("input[name=import_file]", str(bad))
    visitor.follow(page.locator("input[type=submit][value='Check the file']"))
    errors = page.locator("table.import-errors tbody tr")
    assert errors.count() == 1
    assert errors.first.locator("td").all_inner_texts() == [
        "2",
        "channel",
        "unknown channel 'pigeon' (sms, whatsapp or email)",
        "+13125550102, paper form at the fair, pigeon,",
    ]
    assert page.locator("input[name=confirm]").count() == 0
    assert not Subscriber.objects.exists()

    fixed = tmp_path / "signups-fixed.csv"
    fixed.write_text(bad.read_text().replace("pigeon", "whatsapp"))
    page.set_input_files("input[name=import_file]", str(fixed))
    visitor.follow(page.locator("input[type=submit][value='Check the file']"))
    warning = page.inner_text(".import-warning")
    assert warning.startswith("1 confirmation message will be sent for pending rows (1 SMS)")
    assert "projected cost up to $0.0" in warning
    visitor.follow(page.locator("input[name=confirm]"))
    assert "Import finished: 3 new, 0 updated, 0 unchanged." in page.inner_text(".messagelist")
    assert dict(Subscriber.objects.values_list("phone", "consent_status")) == {
        "+13125550101": "opted_in",
        "+13125550102": "opted_in",
        "+13125550103": "pending",
    }
    assert Message.objects.filter(kind="confirmation", phone="+13125550103").count() == 1
    fits_the_window(visitor)


def test_export_filtered_subscribers_and_import_the_file_again(
    visitor, transactional_db, celery_worker, monkeypatch
):
    # A set this size goes to a worker, two rows a part: the job path, not the shortcut.
    monkeypatch.setattr(exporting, "INLINE_ROWS", 2)
    monkeypatch.setattr(exporting, "CHUNK_ROWS", 2)
    # A worker slow enough to watch: the page must follow it without a reload.
    write_parts = exporting.csv_parts

    def slowly(queryset):
        for part in write_parts(queryset):
            time.sleep(0.5)
            yield part

    monkeypatch.setattr(exporting, "csv_parts", slowly)
    for n in range(5):
        change(
            f"+1312555014{n}", "opted_in", "whatsapp_keyword", {"text": "JOIN"}, channel="whatsapp"
        )
    change("+13125550145", "opted_out", "sms_keyword", {"text": "STOP"}, channel="whatsapp")
    change("+13125550150", "opted_in", "web_form", {"form": {}})
    change("+13125550151", "pending", "api", {"payload": {}})
    events = ConsentEvent.objects.count()
    wide(visitor, *CHANGE)
    page = visitor.page

    visitor.goto("/admin/subscribers/subscriber/")
    fits_the_window(visitor)
    visitor.follow(page.get_by_role("link", name="WhatsApp", exact=True))
    # The number's consent (the e-mail address's has a filter of its own).
    by_consent = page.locator('#changelist-filter details[data-filter-title="consent status"]')
    visitor.follow(by_consent.get_by_role("link", name="Opted in", exact=True))
    assert page.locator("#result_list tbody tr").count() == 5
    visitor.follow(page.locator("a.export_link"))
    summary = page.inner_text(".export-summary")
    assert "Channel: WhatsApp" in summary and "Consent status: Opted in" in summary
    visitor.follow(page.locator("input[type=submit][value='Export to CSV']"))

    assert "/exports/" in page.url
    ready = page.locator(".export-ready a")
    assert not ready.is_visible()
    loads = visitor.loads
    ready.wait_for(state="visible", timeout=30_000)
    assert visitor.loads == loads  # the page updated itself
    assert page.locator(".export-count").inner_text() == "5 of 5"
    assert page.locator(".export-state").inner_text() == "Ready"
    visitor.screenshot()
    with page.expect_download() as download:
        ready.click()
    exported = Path(download.value.path()).read_text()
    header, *rows = csv.reader(io.StringIO(exported))
    assert header == [
        "phone",
        "evidence",
        "channel",
        "consent_status",
        "timezone",
        "email",
        "email_status",
    ]
    assert sorted(r[0] for r in rows) == [f"+1312555014{n}" for n in range(5)]
    assert {(r[2], r[3]) for r in rows} == {("whatsapp", "opted_in")}

    visitor.goto("/admin/subscribers/subscriber/import/")
    page.set_input_files(
        "input[name=import_file]",
        files=[{"name": "export.csv", "mimeType": "text/csv", "buffer": exported.encode()}],
    )
    visitor.follow(page.locator("input[type=submit][value='Check the file']"))
    assert "0 new, 0 changed, 5 unchanged" in page.inner_text(".import-outcome")
    visitor.follow(page.locator("input[name=confirm]"))
    assert "Import finished: 0 new, 0 updated, 5 unchanged." in page.inner_text(".messagelist")
    assert ConsentEvent.objects.count() == events
