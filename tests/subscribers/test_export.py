"""Export of every subscriber a filtered list shows, in the import's columns.

A small set downloads at once; a large one is written by a real Celery worker
while its page shows progress. Either file, imported again, changes nothing.
"""

import csv
import io
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from import_export.formats.base_formats import CSV

from subscribers import exporting
from subscribers.admin.exports import matching_subscribers
from subscribers.consent import change
from subscribers.erasure import erase
from subscribers.importing import import_csv
from subscribers.models import ConsentEvent, ExportState, SubscriberExport

EXPORT = reverse("admin:subscribers_subscriber_export")
WHATSAPP_OPTED_IN = {"channel__exact": "whatsapp", "consent_status__exact": "opted_in"}


def people() -> None:
    """WhatsApp and SMS numbers in every state; one erased."""
    for n in range(4):
        change(
            f"+1312555010{n}", "opted_in", "whatsapp_keyword", {"text": "JOIN"}, channel="whatsapp"
        )
    change("+13125550110", "opted_out", "sms_keyword", {"text": "STOP"}, channel="whatsapp")
    change("+13125550120", "opted_in", "web_form", {"form": {}})
    change("+13125550121", "pending", "api", {"payload": {}})
    change("+13125550122", "opted_in", "admin", {"admin_user": "dana", "reason": "=1+2"})
    gone = change("+13125550130", "opted_in", "sms_keyword", {"text": "JOIN"}).subscriber
    erase(gone, {"admin_user": "dana", "reason": "erasure request"})


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def admin_import(client: Client, text: str, name: str = "export.csv"):
    """Preview then confirm, as the admin's import does; returns the preview's result."""
    page = client.post(
        reverse("admin:subscribers_subscriber_import"),
        {"format": "0", "import_file": SimpleUploadedFile(name, text.encode(), "text/csv")},
    )
    result = page.context["result"]
    assert not result.has_errors() and not result.has_validation_errors(), result.problems
    done = client.post(
        reverse("admin:subscribers_subscriber_process_import"),
        page.context["confirm_form"].initial,
    )
    assert done.status_code == 302
    return result


@pytest.mark.django_db
def test_the_export_page_says_what_the_filters_select(admin_client):
    people()
    page = admin_client.get(EXPORT, {**WHATSAPP_OPTED_IN, "p": "2", "o": "1"})
    assert page.context["filters"] == "Consent status: Opted in; Channel: WhatsApp"
    assert page.context["count"] == 4
    html = page.content.decode()
    assert "these filters: <strong>Consent status: Opted in; Channel: WhatsApp</strong>" in html
    assert "the file downloads at once" in html
    listing = admin_client.get(
        reverse("admin:subscribers_subscriber_changelist"), WHATSAPP_OPTED_IN
    )
    assert EXPORT + "?" in listing.content.decode()  # the list's Export link keeps its filters
    assert admin_client.get(EXPORT, {"q": "0110"}).context["filters"] == "search: 0110"


@pytest.mark.django_db
def test_a_small_filtered_set_downloads_at_once_in_the_import_columns(admin_client, admin_user):
    people()
    response = admin_client.post(f"{EXPORT}?channel__exact=whatsapp")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="subscribers-')
    header, *lines = rows(response.content.decode())
    assert header == [
        "phone",
        "evidence",
        "channel",
        "consent_status",
        "timezone",
        "email",
        "email_status",
    ]
    assert [(r[0], r[2], r[3]) for r in lines] == [
        *[(f"+1312555010{n}", "whatsapp", "opted_in") for n in range(4)],
        ("+13125550110", "whatsapp", "opted_out"),
    ]
    assert lines[-1][1].startswith("Opted out by SMS keyword STOP, ")
    entry = LogEntry.objects.get()
    assert entry.user == admin_user and entry.change_message == (
        "Exported (5 rows, filters: Channel: WhatsApp)"
    )


@pytest.mark.django_db
def test_erased_numbers_are_left_out(admin_client):
    people()
    text = admin_client.post(EXPORT).content.decode()
    assert "erased-" not in text
    assert len(rows(text)) == 1 + 8


@pytest.mark.django_db
@pytest.mark.parametrize("escaping", ["off", "import-export", "every formula sign"])
def test_export_then_import_changes_nothing(admin_client, settings, monkeypatch, escaping):
    people()
    if escaping != "off":
        settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
    if escaping == "every formula sign":
        # As strict as OWASP asks: a quote before any cell starting with = + - @.
        def quote_formulae(self, dataset):
            for _ in range(len(dataset)):
                row = dataset.lpop()
                dataset.append(
                    ["'" + c if c.startswith(("=", "+", "-", "@")) else c for c in map(str, row)]
                )

        monkeypatch.setattr(CSV, "_escape_formulae", quote_formulae)
    events = list(ConsentEvent.objects.values_list("id", flat=True))
    for filters in [WHATSAPP_OPTED_IN, {"consent_status__exact": "pending"}, {}]:
        text = admin_client.post(f"{EXPORT}?{urlencode(filters)}").content.decode()
        result = admin_import(admin_client, text)
        assert result.totals["new"] == result.totals["update"] == 0
        assert result.totals["skip"] == len(rows(text)) - 1 > 0
        assert import_csv(text, "export.csv", dry_run=False).counts["skip"] == result.totals["skip"]
    assert list(ConsentEvent.objects.values_list("id", flat=True)) == events


@pytest.mark.django_db
def test_exports_are_for_those_who_may_see_subscribers(subscribe):
    subscribe("+13125550101")
    nobody = User.objects.create_user("nobody", password="x", is_staff=True)
    client = Client()
    client.force_login(nobody)
    assert client.get(EXPORT).status_code == 403
    assert client.post(EXPORT).status_code == 403
    nobody.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    assert client.get(EXPORT).status_code == 200
    assert client.post(EXPORT).status_code == 200


@pytest.mark.django_db
def test_bad_filters_export_nothing(admin_client):
    response = admin_client.post(f"{EXPORT}?no_such_field=1", follow=True)
    assert "The list&#x27;s filters are not valid; nothing exported." in response.content.decode()
    assert not SubscriberExport.objects.exists()


def test_a_large_set_is_written_by_a_worker_with_progress(celery_worker, monkeypatch):
    monkeypatch.setattr(exporting, "INLINE_ROWS", 3)
    monkeypatch.setattr(exporting, "CHUNK_ROWS", 2)
    people()
    owner = User.objects.create_superuser("owner", password="x")
    client = Client()
    client.force_login(owner)
    small = exporting.small_export  # what the same rows give when written at once

    response = client.post(f"{EXPORT}?channel__exact=whatsapp")
    export = SubscriberExport.objects.get()
    assert response["Location"] == reverse(
        "admin:subscribers_subscriber_export_job", args=[export.pk]
    )
    assert export.description == "Channel: WhatsApp"
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"subscribers/export.js" in page.content

    status_url = reverse("admin:subscribers_subscriber_export_status", args=[export.pk])
    status = client.get(status_url).json()
    deadline = time.monotonic() + 30
    while status["state"] != "done" and time.monotonic() < deadline:
        assert status["state"] in ("queued", "running")
        time.sleep(0.2)
        status = client.get(status_url).json()
    assert status["state"] == "done", status
    assert (status["done"], status["total"], status["percent"]) == (5, 5, 100)
    export.refresh_from_db()
    assert export.parts.count() == 3  # two rows a part

    download = client.get(status["download_url"])
    text = b"".join(download.streaming_content).decode()
    monkeypatch.setattr(exporting, "INLINE_ROWS", 100)
    assert text == small(matching_subscribers(export))[0]
    assert import_csv(text, "export.csv", dry_run=False).counts["skip"] == 5

    # Someone else's export is not theirs to see, even with the same permissions.
    other = User.objects.create_user("other", password="x", is_staff=True)
    other.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    client.force_login(other)
    assert client.get(status_url).status_code == 404
    assert client.get(status["download_url"]).status_code == 404


@pytest.mark.django_db
def test_a_run_again_starts_the_file_over_and_a_failure_is_shown(admin_user, subscribe):
    subscribe("+13125550101")
    export = SubscriberExport.objects.create(requested_by=admin_user, query="")
    exporting.run(export.pk, matching_subscribers)
    exporting.run(export.pk, matching_subscribers)  # a finished export is left alone
    export.refresh_from_db()
    assert (export.state, export.done, export.parts.count()) == (ExportState.DONE, 1, 1)

    broken = SubscriberExport.objects.create(requested_by=admin_user, query="no_such_field=1")
    with pytest.raises(Exception):  # noqa: B017 - whatever the list refuses
        exporting.run(broken.pk, matching_subscribers)
    broken.refresh_from_db()
    assert broken.state == ExportState.FAILED and broken.error
    assert not broken.parts.exists()


@pytest.mark.django_db
def test_old_exports_are_deleted(admin_user, subscribe):
    subscribe("+13125550101")
    old = SubscriberExport.objects.create(requested_by=admin_user)
    exporting.run(old.pk, matching_subscribers)
    SubscriberExport.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - exporting.KEEP_FOR - timedelta(minutes=1)
    )
    fresh = SubscriberExport.objects.create(requested_by=admin_user)
    assert exporting.prune() == 1
    assert list(SubscriberExport.objects.all()) == [fresh]
