"""The cost report (HTML and CSV), permissions, and no secret on any operations page."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from messaging.reports import rollups
from tests.ops.factories import at, delivery_event, message, provider_call, seed_operations

pytestmark = pytest.mark.django_db
COSTS = "/admin/messaging/message/costs/"


def test_cost_report_page_and_csv(ops_client):
    today = rollups.today()
    last_month = rollups.month_start(today) - timedelta(days=1)
    message(
        at(last_month),
        provider="sns",
        price_estimated=Decimal("0.00645"),
        price_actual=Decimal("0.007"),
    )
    message(timezone.now(), channel="whatsapp", price_estimated=Decimal("0.005"))
    call_command("refresh_rollups", "--all")
    both_months = {"start": str(rollups.month_start(last_month)), "end": str(today)}

    html = ops_client.get(COSTS, both_months).content.decode()
    assert 'id="cost-report"' in html and f"{last_month:%b %Y}" in html
    assert "<td>AWS SNS</td><td>SMS</td>" in html and "<td>Twilio</td><td>WhatsApp</td>" in html
    assert "Download CSV" in html and 'id="cost-chart"' in html
    # Two months: a bar per day; the comparison of estimate and actual is spelt out.
    assert "Spend per day (USD)" in html
    assert "Providers reported a price for 1 of 2 messages" in html

    response = ops_client.get(COSTS, {**both_months, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["month"], r["provider"], r["channel"]) for r in rows] == [
        (f"{today:%Y-%m}", "twilio", "whatsapp"),
        (f"{last_month:%Y-%m}", "sns", "sms"),
    ]
    sns = rows[1]
    assert (sns["estimated_usd"], sns["actual_usd"], sns["actual_minus_estimate_usd"]) == (
        "0.00645",
        "0.00700",
        "0.00055",
    )
    assert sns["cost_usd"] == "0.00700" and rows[0]["cost_usd"] == "0.00500"

    # Without a range: this month only, on the page and in the CSV.
    this_month = list(csv.DictReader(io.StringIO(
        ops_client.get(COSTS, {"format": "csv"}).content.decode()
    )))  # fmt: skip
    assert [r["provider"] for r in this_month] == ["twilio"]


def test_cost_report_totals_and_a_chart_by_month_over_long_ranges(ops_client):
    today = rollups.today()
    for months_ago, price in ((0, "0.0100"), (3, "0.0200"), (3, "0.0300")):
        day = rollups.month_start(today) - timedelta(days=31 * months_ago)
        message(at(day), price_estimated=Decimal(price))
    response = ops_client.get(COSTS, {"start": str(today - timedelta(days=150)), "end": str(today)})
    html = response.content.decode()
    assert "Spend per month (USD)" in html
    assert response.context["total"].messages == 3
    assert response.context["total"].cost == Decimal("0.06000")
    assert "Total" in html and 'id="cost-total"' in html


def test_cost_report_refuses_a_backwards_range_with_a_reason(ops_client):
    backwards = {"start": "2026-11-30", "end": "2026-11-01"}
    html = ops_client.get(COSTS, backwards).content.decode()
    assert "The first day must not come after the last day." in html
    response = ops_client.get(COSTS, {**backwards, "format": "csv"})
    assert response.status_code == 400
    assert b"must not come after" in response.content
    response = ops_client.get(COSTS, {"start": "yesterday", "end": "2026-11-01", "format": "csv"})
    assert response.status_code == 400 and b"From: Enter a valid date." in response.content


def test_cost_report_empty_and_needs_view_permission(ops_client):
    assert "No messages sent in these days." in ops_client.get(COSTS).content.decode()
    user = get_user_model().objects.create_user("clerk", password="x-0123456789", is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get(COSTS).status_code == 403
    assert Client().get(COSTS).status_code == 302  # anonymous: to the login page


def test_no_operations_page_shows_a_secret(ops_client, admin_client, settings, monkeypatch):
    token = "twilio-auth-token-0123456789abcdef"
    aws_secret = "aws-secret-access-key-0123456789ABCDEF"
    settings.TWILIO_AUTH_TOKEN = token
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws_secret)
    seeded = seed_operations(timezone.localdate())
    msg = seeded["failed"]
    provider_call(
        msg,
        request={"Authorization": f"Basic {token}", "body": f"secret={aws_secret}"},
        response={"echo": token, "aws_secret_access_key": aws_secret},
        outcome="retryable",
    )
    event = delivery_event(msg, "failed", payload={"AuthToken": token, "note": aws_secret})
    call_command("refresh_rollups")
    pages = [
        "/admin/",
        "/admin/messaging/message/",
        f"/admin/messaging/message/{msg.pk}/change/",
        f"/admin/messaging/message/{msg.pk}/retry/",
        COSTS,
        f"{COSTS}?format=csv",
        "/admin/messaging/providercall/",
        f"/admin/messaging/providercall/{msg.provider_calls.get().pk}/change/",
        f"/admin/messaging/deliveryevent/{event.pk}/change/",
    ]
    for client in (ops_client, admin_client):
        for url in pages:
            response = client.get(url)
            if url.endswith("/retry/") and client is ops_client:
                assert response.status_code == 403
                continue
            assert response.status_code == 200, url
            body = response.content.decode()
            assert token not in body and aws_secret not in body, url
