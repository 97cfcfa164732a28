"""The subscriber admin, through the admin's own views."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from subscribers.models import ConsentEvent, Subscriber
from tests.subscribers.conftest import run_action

CHANGELIST = reverse("admin:subscribers_subscriber_changelist")


def listed_phones(response) -> list[str]:
    return [s.phone for s in response.context["cl"].result_list]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed",
    ["+13125550123", "(312) 555-0123", "312.555.0123", "1 312 555 0123", "whatsapp:+13125550123"],
)
def test_search_finds_a_number_however_it_is_typed(admin_client, subscribe, typed):
    subscribe("+13125550123")
    subscribe("+13125550124")
    response = admin_client.get(CHANGELIST, {"q": typed})
    assert listed_phones(response) == ["+13125550123"]


@pytest.mark.django_db
def test_search_by_last_digits_and_exact_match_query(admin_client, subscribe):
    subscribe("+13125550123")
    subscribe("+13125550145")
    assert listed_phones(admin_client.get(CHANGELIST, {"q": "0123"})) == ["+13125550123"]
    assert sorted(listed_phones(admin_client.get(CHANGELIST, {"q": "555-01"}))) == [
        "+13125550123",
        "+13125550145",
    ]
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(CHANGELIST, {"q": "(312) 555-0123"})
    searches = [
        q["sql"]
        for q in queries
        if "subscribers_subscriber" in q["sql"] and "LIKE" in q["sql"].upper()
    ]
    assert searches == []  # a full number is an exact, indexed match

    if connection.vendor == "postgresql":
        # The last-digits search (LIKE '%…%') is served by a trigram index.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'subscriber_phone_trgm_idx'"
            )
            assert "gin_trgm_ops" in cursor.fetchone()[0]


@pytest.mark.django_db
def test_filters_by_status_channel_and_source(admin_client, subscribe):
    subscribe("+13125550101")
    subscribe("+13125550102", status="opted_out")
    subscribe("+13125550103", channel="whatsapp")
    assert listed_phones(admin_client.get(CHANGELIST, {"consent_status__exact": "opted_out"})) == [
        "+13125550102"
    ]
    assert listed_phones(admin_client.get(CHANGELIST, {"channel__exact": "whatsapp"})) == [
        "+13125550103"
    ]
    assert (
        len(listed_phones(admin_client.get(CHANGELIST, {"consent_source__exact": "sms_keyword"})))
        == 3
    )


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{}, {"consent_status__exact": "opted_in"}])
def test_large_lists_are_not_counted_row_by_row(admin_client, subscribe, monkeypatch, params):
    for n in range(3):
        subscribe(f"+1312555010{n}")
    # As if the table were large: every list is above the exact-count threshold.
    monkeypatch.setattr("smsbot.pagination.EXACT_COUNT_LIMIT", 2)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(CHANGELIST, params)
    assert response.status_code == 200
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    # Only a count capped by LIMIT, never one over the whole table...
    assert any("LIMIT" in sql.upper() for sql in counts)
    if connection.vendor == "postgresql":
        # ...and beyond the cap the planner's estimate stands in for COUNT(*).
        assert all("LIMIT" in sql.upper() for sql in counts)
        assert any(q["sql"].startswith("EXPLAIN") for q in queries)
    else:
        # SQLite (development only) has no estimate: past the cap it counts.
        assert sum("LIMIT" not in sql.upper() for sql in counts) == 1
    assert sorted(listed_phones(response)) == ["+13125550100", "+13125550101", "+13125550102"]


@pytest.mark.django_db
def test_small_lists_are_counted_exactly(admin_client, subscribe):
    for n in range(3):
        subscribe(f"+1312555010{n}")
    response = admin_client.get(CHANGELIST)
    assert response.context["cl"].result_count == 3


@pytest.mark.django_db
def test_every_list_filter_has_an_index():
    indexed = {f.name for f in Subscriber._meta.fields if f.db_index or f.unique}
    for index in Subscriber._meta.indexes:
        indexed.add(index.fields[0])
    from subscribers.admin.subscribers import SubscriberAdmin

    for entry in SubscriberAdmin.list_filter:
        name = entry[0] if isinstance(entry, tuple) else getattr(entry, "field_name", entry)
        if name == "undeliverable":
            assert any(i.name == "subscriber_undeliverable_idx" for i in Subscriber._meta.indexes)
        else:
            assert name in indexed, name


@pytest.mark.django_db
def test_opt_out_asks_for_a_reason_and_records_who_and_why(admin_client, admin_user, subscribe):
    sub = subscribe("+13125550123")
    form_page = run_action(admin_client, "opt_out", [sub])
    assert form_page.status_code == 200
    assert b"Reason for opting out" in form_page.content
    sub.refresh_from_db()
    assert sub.consent_status == "opted_in"  # nothing happens before the reason is given

    missing = run_action(admin_client, "opt_out", [sub], reason="")
    assert missing.status_code == 200 and b"This field is required" in missing.content

    done = run_action(admin_client, "opt_out", [sub], reason="asked on the phone")
    assert done.status_code == 302
    sub.refresh_from_db()
    assert sub.consent_status == "opted_out" and sub.consent_source == "admin"
    event = sub.consent_events.first()
    assert event.source == "admin"
    assert event.evidence == {
        "admin_user": admin_user.username,
        "admin_user_id": admin_user.pk,
        "reason": "asked on the phone",
    }


@pytest.mark.django_db
def test_opt_back_in_requires_evidence_text(admin_client, subscribe):
    sub = subscribe("+13125550123", status="opted_out")
    blank = run_action(admin_client, "opt_back_in", [sub], evidence=" ")
    assert blank.status_code == 200 and b"Evidence of consent" in blank.content
    sub.refresh_from_db()
    assert sub.consent_status == "opted_out"
    run_action(admin_client, "opt_back_in", [sub], evidence="paper form 12")
    sub.refresh_from_db()
    assert sub.consent_status == "opted_in"
    assert sub.consent_events.first().evidence["evidence"] == "paper form 12"


@pytest.mark.django_db
def test_export_selected_writes_the_import_columns(admin_client, subscribe):
    a = subscribe("+13125550101")
    subscribe("+13125550102")
    response = run_action(admin_client, "export_csv", [a])
    assert response["Content-Type"].startswith("text/csv")
    header, *rows = csv.reader(io.StringIO(response.content.decode()))
    assert header == [
        "phone",
        "evidence",
        "channel",
        "consent_status",
        "timezone",
        "email",
        "email_status",
    ]
    assert len(rows) == 1
    phone, evidence, channel, status, zone, address, address_status = rows[0]
    assert (phone, channel, status, zone) == ("+13125550101", "sms", "opted_in", "America/Chicago")
    assert address == address_status == ""  # no e-mail address
    assert re.fullmatch(
        r"Opted in by SMS keyword JOIN, \w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d UTC", evidence
    )


@pytest.mark.django_db
def test_detail_page_keeps_consent_read_only_and_the_events_untouchable(admin_client, subscribe):
    sub = subscribe("+13125550123")
    run_action(admin_client, "opt_out", [sub], reason="second event")
    response = admin_client.get(reverse("admin:subscribers_subscriber_change", args=[sub.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("second event") < html.index("message sid")  # newest event first
    # Consent is not a field of the form: a forged POST cannot change it.
    admin_client.post(
        reverse("admin:subscribers_subscriber_change", args=[sub.pk]),
        {
            "channel": "sms",
            "consent_status": "opted_in",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    sub.refresh_from_db()
    assert sub.consent_status == "opted_out"
    assert ConsentEvent.objects.filter(subscriber=sub).count() == 2


@pytest.mark.django_db
def test_nobody_adds_or_deletes_subscribers_or_touches_consent_events(admin_client, subscribe):
    sub = subscribe("+13125550123")
    event = ConsentEvent.objects.get()
    assert admin_client.get(reverse("admin:subscribers_subscriber_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:subscribers_subscriber_delete", args=[sub.pk])).status_code
        == 403
    )
    assert admin_client.get(reverse("admin:subscribers_consentevent_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:subscribers_consentevent_delete", args=[event.pk])
        ).status_code
        == 403
    )
    response = admin_client.post(
        reverse("admin:subscribers_consentevent_change", args=[event.pk]), {"source": "admin"}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.source == "sms_keyword"
    actions = admin_client.get(CHANGELIST).context["action_form"].fields["action"].choices
    assert "delete_selected" not in [name for name, _ in actions]


@pytest.mark.django_db
def test_consent_event_search_by_number_hash(admin_client, subscribe):
    subscribe("+13125550123")
    subscribe("+13125550124")
    response = admin_client.get(
        reverse("admin:subscribers_consentevent_changelist"), {"q": "(312) 555-0123"}
    )
    assert [e.subscriber.phone for e in response.context["cl"].result_list] == ["+13125550123"]
