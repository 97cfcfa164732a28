"""The Daily content report and the consent proof, probed over HTTP: each refuses the
roles that may not read it (its HTML and its JSON alike), answers hostile query values
with a form error or a 404, never a 5xx, and shows hostile content text as text."""

import datetime as dt
import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messaging.models import Broadcast, DailyContent, Message
from subscribers.consent import change
from tests.security.conftest import DEVOPS, OPS, ROLES, STAFF, SUPER, Probe

pytestmark = pytest.mark.django_db

# Content an operator might paste from anywhere: markup, a spreadsheet formula.
HOSTILE_TEXT = (
    '<script>alert(1)</script>"><img src=x onerror=alert(2)> =HYPERLINK("http://evil.example")'
)
PHONE = "+13125550177"


@pytest.fixture
def seeded() -> dict[str, int]:
    """A daily broadcast of hostile text sent yesterday to a number that then said STOP."""
    day = timezone.localdate() - dt.timedelta(days=1)
    DailyContent.objects.create(date=day, text=HOSTILE_TEXT)
    broadcast = Broadcast.objects.create(
        idempotency_key=f"daily:{day.isoformat()}", name=f"Daily {day}", date=day,
        text=HOSTILE_TEXT, state="done", fanout_done=True, finished_at=timezone.now(),
    )  # fmt: skip
    subscriber = change(PHONE, "opted_in", "admin", {"form": HOSTILE_TEXT}).subscriber
    Message.objects.create(
        direction="outbound", kind="broadcast", provider="twilio", phone=PHONE,
        subscriber=subscriber, broadcast=broadcast, body=HOSTILE_TEXT, status="delivered",
        sent_at=timezone.now(),
    )  # fmt: skip
    change(PHONE, "opted_out", "sms_keyword", {"keyword": "STOP", "text": HOSTILE_TEXT})
    return {"broadcast": broadcast.pk, "subscriber": subscriber.pk}


def doors(seeded: dict[str, int]) -> list[str]:
    proof = reverse("admin:messaging_message_consent_proof", args=[seeded["subscriber"]])
    return [reverse("admin:messaging_dailycontent_report"), proof, f"{proof}?format=json"]


def test_only_the_roles_that_read_them_open_the_report_and_the_proof(
    seeded, role_clients: dict[str, Client], client: Client, probe: Probe
):
    allowed = {SUPER, DEVOPS, OPS}
    for url in doors(seeded):
        for role in ROLES:
            answer = role_clients[role].get(url)
            if role in allowed:
                assert answer.status_code == 200, (role, url)
            else:
                probe.attack(answer)
                assert PHONE not in answer.content.decode()
        # Not logged in: the login page, nothing of the number.
        anonymous = probe.attack(client.get(url), refused=True)
        assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert STAFF not in allowed


HOSTILE_PERIODS = [
    {"start": "9999-12-31", "end": "9999-12-31"},
    {"start": "0001-01-01", "end": "0001-01-02"},
    {"start": "2026-13-45", "end": "x"},
    {"start": "2026-02-30", "end": "99999-01-01"},
    {"start": "2026-12-01", "end": "2026-11-01"},  # backwards
    {"start": "a\x00b", "end": "'; DROP TABLE messaging_message; --"},
    {"start": "1" * 5000, "end": ""},
]
HOSTILE_ORDERS = ["<script>", "-id", "__class__", "stops'--", "x" * 10_000, "text", ""]


def test_hostile_periods_and_orders_are_form_errors_or_the_default_never_a_5xx(
    seeded, role_clients: dict[str, Client], probe: Probe
):
    ops = role_clients[OPS]
    url = reverse("admin:messaging_dailycontent_report")
    probe.must_refuse = 0  # each answers 200: an error shown in the form, or the default
    for period in HOSTILE_PERIODS:
        answer = probe.attack(ops.get(url, period))
        assert answer.status_code == 200
        html = answer.content.decode()
        assert "errorlist" in html or "errornote" in html, period
        assert answer.context["report"].order == "stops"
    for order in HOSTILE_ORDERS:
        answer = probe.attack(ops.get(url, {"order": order}))
        assert answer.status_code == 200 and answer.context["report"].order == "stops"
        assert "<script>" not in answer.content.decode().split('name="order"')[1][:40]
    # A whole century is one query on the daily broadcasts, not a walk over its days.
    century = probe.attack(ops.get(url, {"start": "1926-01-01", "end": "2026-12-31"}))
    assert century.status_code == 200 and len(century.context["report"].rows) == 1


def test_the_proof_refuses_ids_that_are_no_subscriber_and_formats_it_does_not_know(
    seeded, role_clients: dict[str, Client], probe: Probe
):
    ops = role_clients[OPS]
    base = "/admin/messaging/message/consent-proof/"
    for bad in ("9" * 30, "0", "-1", "1e3", "%00", "..%2f"):
        answer = ops.get(f"{base}{bad}/")
        # Not a number: the admin's catch-all sends it on; a number of no one: 404.
        probe.attack(answer, refused=answer.status_code in (302, 404))
        landed = ops.get(f"{base}{bad}/", follow=True)
        assert landed.status_code in (200, 404) and PHONE not in landed.content.decode()
    proof = reverse("admin:messaging_message_consent_proof", args=[seeded["subscriber"]])
    for fmt in ("<script>", "JSON", "csv", "x" * 5000):
        answer = ops.get(proof, {"format": fmt})
        # An unknown format is the page itself, never its value echoed as markup.
        assert answer.status_code == 200 and answer["Content-Type"].startswith("text/html")
        assert "<script>" not in answer.content.decode().replace("<script>alert", "")


def test_hostile_content_text_is_shown_as_text_in_the_report_and_the_proof(
    seeded, role_clients: dict[str, Client]
):
    ops = role_clients[OPS]
    report = ops.get(reverse("admin:messaging_dailycontent_report")).content.decode()
    proof_url = reverse("admin:messaging_message_consent_proof", args=[seeded["subscriber"]])
    proof = ops.get(proof_url).content.decode()
    page = ops.get(reverse("admin:messaging_broadcast_change", args=[seeded["broadcast"]]))
    for html in (report, proof, page.content.decode()):
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The chart names days, never the text: nothing of it inside the SVG.
    chart = re.search(r"<svg.*?</svg>", report, re.S)[0]
    assert "alert" not in chart and "HYPERLINK" not in chart
    # The JSON carries the text as a string, exactly, for whoever reads it next.
    document = json.loads(ops.get(proof_url, {"format": "json"}).content)
    as_json = json.dumps(HOSTILE_TEXT, ensure_ascii=False)
    assert as_json in json.dumps(document, ensure_ascii=False)
