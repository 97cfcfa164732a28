"""The message log: filters, search by number, detail page, retry, paginator."""

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from messaging.delivery import error_codes
from messaging.models import Message
from smsbot.models import OutboxTask
from smsbot.pagination import CheapCountPaginator
from subscribers import consent
from tests.ops.factories import at, delivery_event, message, provider_call

pytestmark = pytest.mark.django_db
LIST = "/admin/messaging/message/"


def listed(client, query: str) -> list[Message]:
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 200, response.content[:500]
    return list(response.context["cl"].result_list)


def test_filters_by_status_provider_channel_direction_kind_error_and_date(ops_client):
    today = timezone.localdate()
    a = message(timezone.now(), status="failed", error_code="30003")
    b = message(timezone.now(), provider="sns", kind="broadcast", error_code="")
    c = message(timezone.now(), channel="whatsapp", direction="inbound", kind="inbound")
    old = message(at(today - timedelta(days=3)), status="failed", error_code="")
    assert listed(ops_client, "status__exact=failed") == [a, old]
    assert listed(ops_client, "provider__exact=sns") == [b]
    assert listed(ops_client, "channel__exact=whatsapp") == [c]
    assert listed(ops_client, "direction__exact=inbound") == [c]
    assert listed(ops_client, "kind__exact=broadcast") == [b]
    assert listed(ops_client, "error_code=30003") == [a]
    assert listed(ops_client, "error_code=none&status__exact=failed") == [old]
    assert listed(ops_client, "status__in=failed,delivered&provider__exact=twilio") == [c, a, old]
    since = timezone.make_aware(timezone.datetime.combine(today, timezone.datetime.min.time()))
    assert listed(ops_client, f"created_at__gte={since.isoformat().replace('+', '%2B')}") == [
        c,
        b,
        a,
    ]
    html = ops_client.get(LIST).content.decode()
    # The filter sidebar offers the known codes with their meaning.
    assert "30003 – Unreachable destination handset" in html


def test_error_code_filter_is_one_dropdown_grouped_by_who_reports_the_code(ops_client):
    chosen = message(status="failed", error_code="sns:OptedOut")
    html = ops_client.get(LIST, {"error_code": "sns:OptedOut"}).content.decode()
    dropdown = html[html.index('<select class="ops-filter-select"') :]
    dropdown = dropdown[: dropdown.index("</select>")]
    groups = re.findall(r'<optgroup label="([^"]+)">', dropdown)
    assert groups == ["Twilio", "AWS SNS", "AWS End User Messaging SMS", "The portal"]
    # Each code sits under who reports it, the sandbox refusals beside their own vendor.
    by_group = dict(re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', dropdown, re.S))
    assert 'value="?error_code=sns%3ASandbox"' in by_group["AWS SNS"]
    assert 'value="?error_code=eum%3ANotVerified"' in by_group["AWS End User Messaging SMS"]
    assert 'value="?error_code=net%3Atimeout"' in by_group["The portal"]
    # Every known code is an option; the chosen one is selected, the others keep the query.
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', dropdown)
    assert len(options) == 2 + len(error_codes.CODES)  # All, No error code, the codes
    (selected,) = [label for _, flag, label in options if flag]
    assert selected.startswith("sns:OptedOut – The number is on AWS")
    href = next(unescape(v) for v, _, label in options if label.startswith("30003 "))
    assert href == "?error_code=30003"
    assert listed(ops_client, "error_code=sns:OptedOut") == [chosen]


def test_list_columns_fit_a_laptop_and_show_text_error_segments_cost_and_zone(ops_client):
    long_text = "Good morning! " + "A long daily tip that goes on and on. " * 4
    msg = message(body=long_text, status="failed", error_code="30003", segments=2,
                  price_estimated=Decimal("0.0166"))  # fmt: skip
    response = ops_client.get(LIST)
    html = response.content.decode()
    row = html[html.index(f'href="/admin/messaging/message/{msg.pk}/change/') :]
    row = row[: row.index("</tr>")]
    shown_text = re.search(r'class="field-text">([^<]*)<', row).group(1)
    assert shown_text.startswith("Good morning!") and shown_text.endswith("…")
    assert len(shown_text) == 48
    assert '<abbr title="Unreachable destination handset (off or out of coverage)">30003' in row
    assert 'class="field-segments_display">2<' in row and "0.0166" in row
    assert "Twilio SMS" in row
    # Times in the operations timezone, the zone named (Chicago by default).
    local = timezone.localtime(msg.created_at, ZoneInfo("America/Chicago"))
    assert f"{local:%a} {local.day} {local:%b} {local.year}, {local:%H:%M} C" in row and re.search(
        r" C[SD]T<", row
    )


@pytest.mark.parametrize(
    "typed",
    ["+13125550123", "(312) 555-0123", "312.555.0123", "whatsapp:+13125550123", "1 312 555 0123"],
)
def test_search_by_number_however_typed(ops_client, typed):
    mine = message(phone="+13125550123")
    message(phone="+13125550124")
    response = ops_client.get(LIST, {"q": typed})
    assert list(response.context["cl"].result_list) == [mine]


def test_search_by_provider_message_id_and_nonsense(ops_client):
    mine = message(provider_message_id="SMabc123")
    message(provider_message_id="SMother")
    assert list(ops_client.get(LIST, {"q": "SMabc123"}).context["cl"].result_list) == [mine]
    assert list(ops_client.get(LIST, {"q": "no such thing"}).context["cl"].result_list) == []


def test_list_never_counts_the_whole_table(ops_client):
    for _ in range(3):
        message()
    response = ops_client.get(LIST)
    assert response.context["cl"].full_result_count is None
    assert response.context["cl"].result_count == 3


def test_paginator_counts_exactly_below_the_cap_and_cheaply_above(monkeypatch):
    for _ in range(5):
        message()
    assert CheapCountPaginator(Message.objects.all(), 2).count == 5
    monkeypatch.setattr("smsbot.pagination.EXACT_COUNT_LIMIT", 3)
    counted = CheapCountPaginator(Message.objects.all(), 2).count
    # Above the cap: the exact count on SQLite, PostgreSQL's estimate (at least the cap) there.
    assert counted >= 4


def test_detail_shows_calls_redacted_events_cost_and_error_meaning(ops_client, settings):
    settings.TWILIO_AUTH_TOKEN = "tw-auth-token-0123456789abcdef"
    msg = message(status="undelivered", error_code="30005", provider_message_id="SMx1",
                  price_actual=Decimal("0.0079"), segments=2, encoding="UCS-2")  # fmt: skip
    provider_call(
        msg,
        request={"To": msg.phone, "Body": "Hi", "auth_token": "whatever",
                 "url": f"https://x.test/?t={settings.TWILIO_AUTH_TOKEN}"},
        response={"code": 30005, "message": "Unknown destination handset"},
    )  # fmt: skip
    delivery_event(msg, "undelivered", error_code="30005", price=Decimal("0.0079"))
    html = ops_client.get(f"{LIST}{msg.pk}/change/").content.decode()
    assert settings.TWILIO_AUTH_TOKEN not in html and "whatever" not in html
    assert "[redacted]" in html
    assert "+1******0123" in html  # numbers inside the call record are masked
    assert "Unknown destination handset: the number does not exist" in html
    assert "Estimated 0.00830, actual 0.00790 USD (difference -0.00040)" in html
    assert "UCS-2" in html and "undelivered" in html
    # Operations Managers read only: no save button, no retry.
    assert 'name="_save"' not in html and "Retry…" not in html


def test_operations_manager_cannot_change_or_retry(ops_client):
    msg = message(status="failed", error_code="30003")
    assert ops_client.post(f"{LIST}{msg.pk}/change/", {"status": "queued"}).status_code == 403
    assert ops_client.get(f"{LIST}{msg.pk}/retry/").status_code == 403
    assert ops_client.post(f"{LIST}{msg.pk}/retry/").status_code == 403
    assert Message.objects.get(pk=msg.pk).status == "failed"


def test_retry_of_a_retryable_failure_requeues_it_after_confirmation(admin_client):
    msg = message(status="failed", error_code="30003", kind="broadcast")
    change = admin_client.get(f"{LIST}{msg.pk}/change/").content.decode()
    assert f'href="{LIST}{msg.pk}/retry/"' in change
    page = admin_client.get(f"{LIST}{msg.pk}/retry/").content.decode()
    assert "Yes, send again" in page
    assert Message.objects.get(pk=msg.pk).status == "failed"  # a GET changes nothing

    response = admin_client.post(f"{LIST}{msg.pk}/retry/")
    assert response.status_code == 302
    assert Message.objects.get(pk=msg.pk).status == "queued"
    task = OutboxTask.objects.get()
    assert (task.task_name, task.args, task.queue) == ("messaging.send_message", [msg.pk], "bulk")


def test_needs_review_requires_an_explicit_confirmation(admin_client):
    msg = message(status="needs_review", kind="reply")
    page = admin_client.get(f"{LIST}{msg.pk}/retry/").content.decode()
    assert "may already have sent this message" in page
    again = admin_client.post(f"{LIST}{msg.pk}/retry/")
    assert "Tick the box" in again.content.decode()
    assert Message.objects.get(pk=msg.pk).status == "needs_review"
    admin_client.post(f"{LIST}{msg.pk}/retry/", {"confirm_not_sent": "1"})
    assert Message.objects.get(pk=msg.pk).status == "queued"
    assert OutboxTask.objects.get().queue == "replies"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": "delivered"}, "Only failed or needs-review"),
        ({"status": "failed", "error_code": "21610"}, "is permanent"),
        ({"status": "failed", "error_code": "30005"}, "is permanent"),
        ({"status": "failed", "direction": "inbound", "kind": "inbound"}, "Only outbound"),
    ],
)
def test_retry_is_refused_where_it_is_not_safe(admin_client, fields, reason):
    msg = message(**fields)
    page = admin_client.get(f"{LIST}{msg.pk}/retry/").content.decode()
    assert "cannot be retried" in page and reason in page
    assert "Retry…" not in admin_client.get(f"{LIST}{msg.pk}/change/").content.decode()
    admin_client.post(f"{LIST}{msg.pk}/retry/")
    assert Message.objects.get(pk=msg.pk).status == fields["status"]
    assert not OutboxTask.objects.exists()


def test_retry_refused_after_a_permanent_provider_answer_or_an_opt_out(admin_client):
    rejected = message(status="failed", error_code="99999")
    provider_call(rejected, outcome="permanent")
    sub = consent.change("+13125550130", "opted_in", "web_form", {"form": "t"}).subscriber
    consent.change("+13125550130", "opted_out", "sms_keyword", {"text": "STOP"})
    opted_out = message(status="failed", kind="broadcast", phone=sub.phone, subscriber=sub)
    for msg, reason in ((rejected, "rejected this message permanently"),
                        (opted_out, "no longer opted in")):  # fmt: skip
        admin_client.post(f"{LIST}{msg.pk}/retry/")
        assert Message.objects.get(pk=msg.pk).status == "failed"
        assert reason in admin_client.get(f"{LIST}{msg.pk}/retry/").content.decode()


def test_bulk_retry_action_confirms_then_retries_only_the_safe_ones(admin_client):
    safe = message(status="failed", error_code="20003")  # credentials fixed since
    permanent = message(status="failed", error_code="21211")
    review = message(status="needs_review")
    chosen = [safe.pk, permanent.pk, review.pk]
    page = admin_client.post(LIST, {"action": "retry_selected", "_selected_action": chosen})
    html = page.content.decode()
    assert page.status_code == 200 and "2 of 3 selected message(s) can be sent again" in html
    assert "No: Error 21211 is permanent" in html
    assert "may already have sent the needs-review messages" in html
    assert Message.objects.filter(status="queued").count() == 0  # nothing before confirming

    # Confirmed without ticking the needs-review box: only the plain failure goes.
    form = {"action": "retry_selected", "_selected_action": [safe.pk, review.pk],
            "confirmed": "yes"}  # fmt: skip
    admin_client.post(LIST, form)
    assert Message.objects.get(pk=safe.pk).status == "queued"
    assert Message.objects.get(pk=review.pk).status == "needs_review"
    assert Message.objects.get(pk=permanent.pk).status == "failed"
    admin_client.post(LIST, {**form, "_selected_action": [review.pk], "confirm_not_sent": "1"})
    assert Message.objects.get(pk=review.pk).status == "queued"
    assert sorted(OutboxTask.objects.values_list("args", flat=True)) == [[safe.pk], [review.pk]]


def test_bulk_retry_action_is_not_offered_to_operations_managers(ops_client):
    msg = message(status="failed", error_code="30003")
    html = ops_client.get(LIST).content.decode()
    assert "retry_selected" not in html
    ops_client.post(
        LIST, {"action": "retry_selected", "_selected_action": [msg.pk], "confirmed": "yes"}
    )
    assert Message.objects.get(pk=msg.pk).status == "failed"
