"""The subscriber page: the number shown whole, consent buttons, history in words, the thread."""

from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from subscribers import hooks
from subscribers.models import ConsentEvent, Conversation
from tests.ops.factories import message
from tests.subscribers.conftest import run_action

NUMBER = "+13125550123"


def page_url(subscriber) -> str:
    return reverse("admin:subscribers_subscriber_change", args=[subscriber.pk])


def consent_url(subscriber) -> str:
    return reverse("admin:subscribers_subscriber_consent", args=[subscriber.pk])


def staff(*permissions: str) -> Client:
    user = User.objects.create_user("viewer", password="x", is_staff=True)
    for name in permissions:
        app, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_number_is_shown_whole_and_never_masked(admin_client, subscribe):
    subscriber = subscribe(NUMBER)
    html = admin_client.get(page_url(subscriber)).content.decode()
    assert f"<h1>{NUMBER}</h1>" in html
    assert "******" not in html
    run_action(admin_client, "opt_out", [subscriber], reason="asked by phone")
    history = reverse("admin:subscribers_subscriber_history", args=[subscriber.pk])
    html = admin_client.get(history).content.decode()
    assert f"<h1>Change history: {NUMBER}</h1>" in html and f">{NUMBER}</a>" in html
    assert "Opted out: consent_status: opted_in → opted_out (asked by phone)" in html


@pytest.mark.django_db
def test_opt_out_from_the_page_records_like_the_list_action(admin_client, admin_user, subscribe):
    by_page, by_list = subscribe(NUMBER), subscribe("+13125550124")
    response = admin_client.post(
        consent_url(by_page), {"to_status": "opted_out", "consent-reason": "asked by phone"}
    )
    assert response.status_code == 302 and response["Location"] == page_url(by_page)
    run_action(admin_client, "opt_out", [by_list], reason="asked by phone")

    page_event, list_event = (
        ConsentEvent.objects.filter(to_status="opted_out").order_by("subscriber__phone").all()
    )
    assert page_event.source == list_event.source == "admin"
    assert (
        page_event.evidence
        == list_event.evidence
        == {
            "admin_user": admin_user.username,
            "admin_user_id": admin_user.pk,
            "reason": "asked by phone",
        }
    )
    audit = LogEntry.objects.order_by("object_id").values_list("object_id", "change_message")
    assert list(audit) == [
        (str(by_page.pk), "Opted out: consent_status: opted_in → opted_out (asked by phone)"),
        (str(by_list.pk), "Opted out: consent_status: opted_in → opted_out (asked by phone)"),
    ]


@pytest.mark.django_db
def test_opt_back_in_needs_evidence_and_a_refusal_changes_nothing(admin_client, subscribe):
    subscriber = subscribe(NUMBER, status="opted_out")
    blank = admin_client.post(
        consent_url(subscriber), {"to_status": "opted_in", "consent-evidence": "  "}, follow=True
    )
    assert "Nothing changed. Evidence of consent: This field is required." in blank.content.decode()
    # Asking for the state it has already is refused too, and writes nothing.
    same = admin_client.post(
        consent_url(subscriber), {"to_status": "opted_out", "consent-reason": "again"}, follow=True
    )
    assert f"Nothing changed: {NUMBER} is opted out." in same.content.decode()
    assert ConsentEvent.objects.filter(subscriber=subscriber).count() == 1
    assert not LogEntry.objects.exists()

    admin_client.post(
        consent_url(subscriber), {"to_status": "opted_in", "consent-evidence": "paper form 12"}
    )
    subscriber.refresh_from_db()
    assert subscriber.consent_status == "opted_in"
    assert subscriber.consent_events.first().evidence["evidence"] == "paper form 12"


@pytest.mark.django_db
def test_buttons_follow_the_state_and_the_permission(admin_client, subscribe):
    opted_in = subscribe(NUMBER)
    pending = subscribe("+13125550124", status="pending")
    opted_out = subscribe("+13125550125", status="opted_out")

    def offered(client, subscriber) -> list[str]:
        buttons = client.get(page_url(subscriber)).context["consent"].buttons
        return [(b.to_status, b.label) for b in buttons]

    assert offered(admin_client, opted_in) == [("opted_out", "Opt out")]
    assert offered(admin_client, pending) == [("opted_out", "Opt out"), ("opted_in", "Opt in")]
    assert offered(admin_client, opted_out) == [("opted_in", "Opt back in")]

    viewer = staff("subscribers.view_subscriber")
    assert offered(viewer, opted_in) == []
    forged = viewer.post(consent_url(opted_in), {"to_status": "opted_out", "consent-reason": "x"})
    assert forged.status_code == 403
    assert admin_client.get(consent_url(opted_in)).status_code == 405
    opted_in.refresh_from_db()
    assert opted_in.consent_status == "opted_in"


@pytest.mark.django_db
def test_history_reads_as_sentences_in_the_operations_timezone(admin_client, subscribe):
    winter = datetime(2026, 11, 28, 16, 2, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=winter):
        subscriber = subscribe(NUMBER)
    run_action(admin_client, "opt_out", [subscriber], reason="asked by phone, ticket 42")
    with timezone.override("America/Chicago"):
        response = admin_client.get(page_url(subscriber))
    lines = [(line.text, line.when) for line in response.context["history"]]
    assert lines[1] == ("Opted in by SMS keyword JOIN", "Sat 28 Nov 2026, 10:02 CST")
    assert lines[0][0] == 'Opted out by admin in the admin: "asked by phone, ticket 42"'
    html = response.content.decode()
    assert "Opted in by SMS keyword JOIN, <time>Sat 28 Nov 2026, 10:02 CST</time>" in html
    assert "<dt>message sid</dt><dd>SM1</dd>" in html  # the evidence, to expand
    assert "{&#x27;" not in html and "{'" not in html  # no raw JSON or dict


@pytest.mark.django_db
def test_the_conversation_is_a_thread_with_statuses(admin_client, subscribe):
    subscriber = subscribe(NUMBER)
    Conversation.objects.create(phone_number=NUMBER, conversation_state="menu", message_count=1)
    message(direction="inbound", kind="inbound", status="received", body="TODAY", phone=NUMBER)
    message(
        kind="reply",
        status="failed",
        body="Here is today's message",
        error_code="30003",
        phone=NUMBER,
        price_estimated=Decimal("0.0083"),
    )
    message(body="Someone else's", phone="+13125550199")
    response = admin_client.get(page_url(subscriber))
    panel = next(p for p in response.context["panels"] if "bubbles" in p.context)
    bubbles = panel.context["bubbles"]
    assert [(b.inbound, b.text, b.status) for b in bubbles] == [
        (True, "TODAY", "Received"),
        (False, "Here is today's message", "Failed"),
    ]
    assert bubbles[1].problem.startswith("30003: Unreachable destination handset")
    assert bubbles[1].kind == "Bot reply"
    html = response.content.decode()
    assert 'class="bubble bubble-in"' in html and 'class="bubble bubble-out"' in html
    assert "Bot state <strong>menu</strong>" in html
    assert "/static/messaging/thread.css" in html

    # Without the right to read messages, no thread (and no message text).
    viewer = staff("subscribers.view_subscriber")
    assert viewer.get(page_url(subscriber)).context["panels"] == []


@pytest.mark.django_db
def test_the_conversation_panel_says_what_it_shows(admin_client, subscribe):
    subscriber = subscribe(NUMBER)
    html = admin_client.get(page_url(subscriber)).content.decode()
    assert "No conversation with the bot yet." in html
    # Messages but no bot state: the thread shows them, and says how many.
    message(direction="inbound", kind="inbound", status="received", body="WHAT", phone=NUMBER)
    message(kind="reply", status="delivered", body="The answer", phone=NUMBER)
    html = admin_client.get(page_url(subscriber)).content.decode()
    assert "No conversation with the bot yet." not in html
    assert "2 messages to and from this number." in html
    # The bot's own counter (3) is not the page's: the page counts what it shows.
    Conversation.objects.create(phone_number=NUMBER, conversation_state="menu", message_count=3)
    html = admin_client.get(page_url(subscriber)).content.decode()
    assert "3 messages" not in html and "2 messages to and from this number." in html
    assert "Bot state <strong>menu</strong>" in html


def test_the_thread_comes_from_messaging_through_the_hook():
    # subscribers never imports messaging (tests/core/test_layout.py): messaging registers.
    assert "messaging.admin.thread.thread_panel" in hooks._panel_sources


@pytest.mark.django_db
def test_the_mirror_panel_and_action_show_only_while_the_mirror_runs(
    admin_client, subscribe, settings
):
    subscriber = subscribe(NUMBER)
    listing = reverse("admin:subscribers_subscriber_changelist")
    settings.DYNAMODB_SYNC_ENABLED = False
    assert "DynamoDB mirror" not in admin_client.get(page_url(subscriber)).content.decode()
    assert "resync_to_dynamodb" not in admin_client.get(listing).content.decode()
    settings.DYNAMODB_SYNC_ENABLED = True
    html = admin_client.get(page_url(subscriber)).content.decode()
    assert "DynamoDB mirror" in html and "never synced" in html
    assert "resync_to_dynamodb" in admin_client.get(listing).content.decode()


@pytest.mark.django_db
def test_no_internal_field_on_the_page(admin_client, subscribe):
    subscriber = subscribe(NUMBER)
    form = admin_client.get(page_url(subscriber)).context["adminform"]
    shown = {name for fieldset in form for line in fieldset for field in line for name in [
        field.field["name"] if isinstance(field.field, dict) else field.field.name
    ]}  # fmt: skip
    assert not shown & {"version", "mirror_synced_version", "mirror_error", "consent_status"}
