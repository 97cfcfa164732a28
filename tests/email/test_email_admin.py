"""The e-mail address in the subscriber admin: list column, filters, search, the page's
read-only state, and adding an address, which only ever starts double opt-in."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from subscribers import consent
from subscribers.models import ConsentEvent, Subscriber
from subscribers.sendable import sendable
from tests.email.conftest import SENDER, link, sent_mail
from tests.messaging.pipeline.conftest import wait_for

LIST = reverse("admin:subscribers_subscriber_changelist")
PHONE = "+13125550150"
ADDRESS = "listed@example.org"


def page_url(subscriber: Subscriber) -> str:
    return reverse("admin:subscribers_subscriber_change", args=[subscriber.pk])


def email_url(subscriber: Subscriber) -> str:
    return reverse("admin:subscribers_subscriber_email", args=[subscriber.pk])


def people() -> dict[str, Subscriber]:
    """A number alone, one with a pending address, one with a confirmed address on e-mail."""
    alone = consent.change("+13125550151", "opted_in", "admin", {"t": 1}).subscriber
    pending = consent.change("+13125550152", "opted_in", "admin", {"t": 1}).subscriber
    consent.change(pending.phone, "pending", "web_form", {"t": 2}, email="Pending@Example.org")
    confirmed = consent.change(
        "+13125550153", "opted_in", "admin", {"t": 1}, channel="email"
    ).subscriber
    consent.change(confirmed.phone, "pending", "web_form", {"t": 2}, email=ADDRESS)
    consent.change(confirmed.phone, "opted_in", "email_link", {"t": 3}, email="")
    return {"alone": alone, "pending": pending, "confirmed": confirmed}


def listed(client, **query: str) -> list[str]:
    response = client.get(LIST, query)
    assert response.status_code == 200
    return sorted(s.phone for s in response.context["cl"].result_list)


@pytest.mark.django_db
def test_the_list_shows_filters_and_finds_the_address(admin_client, settings):
    settings.EMAIL_FROM = SENDER
    who = people()
    html = admin_client.get(LIST).content.decode()
    assert ADDRESS in html and "Pending@example.org" in html and "Pending confirmation" in html
    assert listed(admin_client, email_status__exact="opted_in") == [who["confirmed"].phone]
    assert listed(admin_client, email_status__exact="pending") == [who["pending"].phone]
    assert listed(admin_client, has_email="yes") == [who["pending"].phone, who["confirmed"].phone]
    assert listed(admin_client, has_email="no") == [who["alone"].phone]
    assert listed(admin_client, channel__exact="email") == [who["confirmed"].phone]
    # Search: the whole address, case aside; a part of one finds nothing.
    assert listed(admin_client, q="LISTED@example.org ") == [who["confirmed"].phone]
    assert listed(admin_client, q="pending@example.org") == [who["pending"].phone]
    assert listed(admin_client, q="@example.org") == []


@pytest.mark.django_db
def test_the_page_shows_the_address_and_its_consent_read_only(admin_client, settings):
    settings.EMAIL_FROM = SENDER
    confirmed = people()["confirmed"]
    html = admin_client.get(page_url(confirmed)).content.decode()
    section = html[html.index('class="subscriber-email"') :][:3000]
    assert ADDRESS in section and "Opted in" in section
    assert "E-mail address confirmed by E-mail link" in section
    # The number's own state reads the number's latest event, not the address's.
    assert "Opted in by ops" not in section
    phone_state = html[html.index('class="consent-latest"') :][:200]
    assert phone_state.startswith('class="consent-latest">Opted in by an operator in the admin')
    # Read-only: no field of the row's own form edits the address or its consent.
    form = admin_client.get(page_url(confirmed)).context["adminform"].form
    assert not {"email", "email_status", "email_consent_source"} & set(form.fields)


@pytest.mark.django_db
def test_an_operator_adds_an_address_pending_with_a_confirmation_never_confirmed(
    email_on, celery_worker, admin_client, admin_user, client
):
    subscriber = consent.change(PHONE, "opted_in", "admin", {"t": 1}).subscriber
    html = admin_client.get(page_url(subscriber)).content.decode()
    assert "Add an e-mail address…" in html and "no address" in html

    # Whatever else the POST says, the address can only become pending.
    answer = admin_client.post(
        email_url(subscriber),
        {
            "email-email": "New.Reader@Example.NET",
            "email-evidence": "asked by phone, ticket 41",
            "to_status": "opted_in",
            "email_status": "opted_in",
        },
    )
    assert answer.status_code == 302 and answer["Location"] == page_url(subscriber)
    subscriber.refresh_from_db()
    assert (subscriber.email, subscriber.email_status) == ("New.Reader@example.net", "pending")
    event = ConsentEvent.objects.filter(subscriber=subscriber, address_kind="email").get()
    assert (event.source, event.from_status, event.to_status) == ("admin", "", "pending")
    assert event.evidence == {
        "admin_user": admin_user.username,
        "admin_user_id": admin_user.pk,
        "evidence": "asked by phone, ticket 41",
    }
    entry = LogEntry.objects.get(object_id=str(subscriber.pk))
    assert entry.change_message == (
        "E-mail address added: email_status: (empty) → pending (asked by phone, ticket 41)"
    )
    assert "New.Reader" not in entry.change_message  # the audit trail keeps no address

    # The confirmation e-mail goes out; only its owner's click confirms the address.
    wait_for(lambda: sent_mail(email_on, "New.Reader@example.net"), what="the confirmation")
    (mail,) = sent_mail(email_on, "New.Reader@example.net")
    client.post(link(mail, "/optin/email/"))
    assert Subscriber.objects.get(pk=subscriber.pk).email_status == "opted_in"

    # The same address again: nothing changes, no second e-mail.
    admin_client.post(
        email_url(subscriber), {"email-email": "new.reader@example.net", "email-evidence": "x"}
    )
    assert ConsentEvent.objects.filter(subscriber=subscriber, address_kind="email").count() == 2
    assert len(sent_mail(email_on, "New.Reader@example.net")) == 1


@pytest.mark.django_db
def test_adding_is_refused_with_a_reason(admin_client, settings):
    settings.EMAIL_FROM = SENDER
    who = people()
    stopped = consent.change("+13125550160", "opted_out", "sms_keyword", {"text": "STOP"})
    cases = [
        (who["alone"], {"email-email": "not an address", "email-evidence": "x"}, "valid email"),
        (who["alone"], {"email-email": ADDRESS.upper(), "email-evidence": "x"}, "another"),
        (who["alone"], {"email-email": "a@example.org"}, "Evidence of the request"),
        (stopped.subscriber, {"email-email": "a@example.org", "email-evidence": "x"}, "opted out"),
    ]
    for subscriber, data, reason in cases:
        answer = admin_client.post(email_url(subscriber), data, follow=True)
        said = " ".join(str(m) for m in answer.context["messages"])
        assert said.startswith("Nothing changed") and reason in said, said
    assert Subscriber.objects.get(pk=who["alone"].pk).email == ""
    assert not ConsentEvent.objects.filter(source="admin", address_kind="email").exists()
    # An address its owner unsubscribed stays so.
    consent.change(who["confirmed"].phone, "opted_out", "email_link", {"t": 4}, email="")
    answer = admin_client.post(
        email_url(who["confirmed"]), {"email-email": ADDRESS, "email-evidence": "x"}, follow=True
    )
    assert "unsubscribed by its owner" in " ".join(str(m) for m in answer.context["messages"])

    settings.EMAIL_FROM = ""  # e-mail off: nothing could confirm an address
    html = admin_client.get(page_url(who["alone"])).content.decode()
    assert "Add an e-mail address" not in html
    answer = admin_client.post(
        email_url(who["alone"]),
        {"email-email": "a@example.org", "email-evidence": "x"},
        follow=True,
    )
    assert "e-mail is off" in " ".join(str(m) for m in answer.context["messages"])


@pytest.mark.django_db
def test_an_operator_stops_e_mail_to_an_address_with_a_reason(admin_client, admin_user, settings):
    settings.EMAIL_FROM = SENDER
    confirmed = people()["confirmed"]
    assert "Stop e-mail…" in admin_client.get(page_url(confirmed)).content.decode()

    # A reason is required; without one nothing changes.
    blank = {"operation": "stop", "email-stop-reason": "  "}
    admin_client.post(email_url(confirmed), blank)
    assert Subscriber.objects.get(pk=confirmed.pk).email_status == "opted_in"

    stop = {"operation": "stop", "email-stop-reason": "asked by letter, ticket 52"}
    assert admin_client.post(email_url(confirmed), stop).status_code == 302
    row = Subscriber.objects.get(pk=confirmed.pk)
    assert (row.email_status, row.consent_status) == ("opted_out", "opted_in")
    event = ConsentEvent.objects.filter(subscriber=row, address_kind="email").first()
    assert (event.source, event.to_status) == ("admin", "opted_out")
    assert event.evidence["reason"] == "asked by letter, ticket 52"
    entry = LogEntry.objects.get(object_id=str(row.pk))
    assert entry.change_message == (
        "E-mail stopped: email_status: opted_in → opted_out (asked by letter, ticket 52)"
    )
    # Stopped once: no button, and a second POST changes nothing.
    assert "Stop e-mail…" not in admin_client.get(page_url(row)).content.decode()
    admin_client.post(email_url(row), stop)
    assert ConsentEvent.objects.filter(subscriber=row, address_kind="email").count() == 3
    # The address is not sendable, so the daily message cannot go to it.
    to_address = sendable(timezone.now(), email=True)
    assert not Subscriber.objects.filter(to_address, pk=row.pk).exists()
