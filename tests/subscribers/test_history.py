"""Consent events in words, from every door consent comes through."""

import pytest
from django.urls import reverse

from subscribers.consent import change
from subscribers.history import evidence_items, line
from subscribers.models import ConsentEvent

NUMBER = "+13125550123"


def event_line(to_status: str, source: str, evidence: dict, phone: str = NUMBER) -> str:
    return line(change(phone, to_status, source, evidence).event)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("to_status", "source", "evidence", "expected"),
    [
        ("opted_in", "sms_keyword", {"text": " start "}, "Opted in by SMS keyword START"),
        ("opted_out", "whatsapp_keyword", {"text": "stop"}, "Opted out by WhatsApp keyword STOP"),
        ("pending", "web_form", {"ip": "192.0.2.1"}, "Signed up (awaiting YES) on the web form"),
        ("pending", "api", {"payload": {}}, "Signed up (awaiting YES) through the opt-in API"),
        (
            "opted_out",
            "admin",
            {"admin_user": "dana", "reason": "asked\nby phone"},
            'Opted out by dana in the admin: "asked by phone"',
        ),
        (
            "opted_in",
            "import",
            {"file": "fair.csv", "row": 3, "evidence": "paper sheet", "imported_by": "dana"},
            'Opted in by import of fair.csv, row 3, by dana: "paper sheet"',
        ),
        (
            "opted_out",
            "provider",
            {"error_code": "21610", "provider": "twilio"},
            "Opted out by the provider (Twilio error 21610)",
        ),
        (
            "opted_out",
            "provider",
            {"error_code": "sns:OptedOut", "provider": "sns"},
            "Opted out by the provider (AWS SNS error sns:OptedOut)",
        ),
    ],
)
def test_each_source_reads_as_a_sentence(to_status, source, evidence, expected):
    assert event_line(to_status, source, evidence) == expected


@pytest.mark.django_db
def test_long_reasons_are_cut_and_odd_evidence_still_reads():
    long = event_line("opted_out", "admin", {"admin_user": "dana", "reason": "x" * 200})
    assert long.endswith('x…"') and len(long) < 130
    no_text = {"message_id": "SM2"}
    assert (
        event_line("opted_in", "sms_keyword", no_text, "+13125550124") == "Opted in by SMS keyword"
    )
    assert evidence_items({"form": {"consent": "on"}, "row": 3}) == [
        ("form", '{"consent": "on"}'),
        ("row", "3"),
    ]
    assert evidence_items(["not", "a", "dict"]) == [("evidence", '["not", "a", "dict"]')]


@pytest.mark.django_db
def test_the_consent_events_list_reads_as_lines_linked_to_their_subscriber(admin_client):
    subscriber = change(NUMBER, "opted_in", "sms_keyword", {"text": "JOIN"}).subscriber
    change(NUMBER, "opted_out", "sms_keyword", {"text": "STOP"})
    response = admin_client.get(reverse("admin:subscribers_consentevent_changelist"))
    html = response.content.decode()
    assert "Opted out by SMS keyword STOP" in html and "Opted in by SMS keyword JOIN" in html
    page = reverse("admin:subscribers_subscriber_change", args=[subscriber.pk])
    assert f'<a href="{page}">{NUMBER}</a>' in html
    assert "By new status" in html

    event = ConsentEvent.objects.filter(to_status="opted_out").get()
    detail = admin_client.get(reverse("admin:subscribers_consentevent_change", args=[event.pk]))
    html = detail.content.decode()
    assert "<h1>Opted out by SMS keyword STOP, " in html
    assert "&quot;text&quot;: &quot;STOP&quot;" in html


@pytest.mark.django_db
def test_the_conversations_list_links_each_number_to_its_subscriber(admin_client, settings):
    from subscribers.models import Conversation

    subscriber = change(NUMBER, "opted_in", "sms_keyword", {"text": "JOIN"}).subscriber
    Conversation.objects.create(phone_number=NUMBER, last_message="a " * 80)
    Conversation.objects.create(phone_number="+13125550199")  # no subscriber (yet)
    settings.DYNAMODB_SYNC_ENABLED = False
    response = admin_client.get(reverse("admin:subscribers_conversation_changelist"))
    html = response.content.decode()
    page = reverse("admin:subscribers_subscriber_change", args=[subscriber.pk])
    assert f'<a href="{page}">{NUMBER}</a>' in html
    assert "+13125550199" in html
    assert "a a a…" in html  # the last message, shortened
    assert "DynamoDB mirror" not in html and "resync_to_dynamodb" not in html
    settings.DYNAMODB_SYNC_ENABLED = True
    html = admin_client.get(reverse("admin:subscribers_conversation_changelist")).content.decode()
    assert "DynamoDB mirror" in html and "resync_to_dynamodb" in html
