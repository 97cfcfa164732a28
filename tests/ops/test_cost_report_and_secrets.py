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
    today = timezone.localdate()
    last_month = rollups.month_start(today) - timedelta(days=1)
    message(
        at(last_month),
        provider="sns",
        price_estimated=Decimal("0.00645"),
        price_actual=Decimal("0.007"),
    )
    message(timezone.now(), channel="whatsapp", price_estimated=Decimal("0.005"))
    call_command("refresh_rollups", "--all")

    html = ops_client.get(COSTS).content.decode()
    assert 'id="cost-report"' in html and f"{last_month:%Y-%m}" in html
    assert "Download CSV" in html

    response = ops_client.get(COSTS, {"format": "csv"})
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


def test_cost_report_empty_and_needs_view_permission(ops_client):
    assert "No messages sent yet." in ops_client.get(COSTS).content.decode()
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
