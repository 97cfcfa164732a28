"""CSV import: the manage.py command and the admin's dry-run preview share one importer."""

from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from messaging.models import Message
from subscribers.consent import change
from subscribers.importing import SubscriberResource, describe_columns, import_csv
from subscribers.models import ConsentEvent, Subscriber

GOOD = (
    "phone,channel,consent_status,evidence\n"
    "(312) 555-0101,sms,opted_in,paper sign-up sheet at the fair 2026-10-01\n"
    "whatsapp:+13125550102,whatsapp,,website form export 2026-09\n"
    "+1 312 555 0103,,opted_out,unsubscribe list from the old system\n"
)
BAD = (
    "phone,channel,consent_status,evidence\n"
    "+13125550101,sms,opted_in,fair sheet\n"
    "12,sms,opted_in,fair sheet\n"
    "+13125550103,sms,opted_in,\n"
    "+13125550104,fax,opted_in,fair sheet\n"
    "+13125550105,sms,maybe,fair sheet\n"
)


def write(tmp_path: Path, text: str, name: str = "members.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.django_db
def test_command_imports_through_the_consent_function(tmp_path, capsys):
    call_command("import_subscribers", str(write(tmp_path, GOOD)))
    assert "imported (3 new" in capsys.readouterr().out
    subs = {s.phone: s for s in Subscriber.objects.all()}
    assert subs["+13125550101"].consent_status == "opted_in"
    assert subs["+13125550102"].channel == "whatsapp"
    assert subs["+13125550102"].consent_status == "opted_in"  # the default
    assert subs["+13125550103"].consent_status == "opted_out"
    event = ConsentEvent.objects.get(subscriber=subs["+13125550101"])
    assert event.source == "import"
    assert event.evidence == {
        "file": "members.csv",
        "row": 1,
        "evidence": "paper sign-up sheet at the fair 2026-10-01",
    }
    assert ConsentEvent.objects.get(subscriber=subs["+13125550103"]).evidence["row"] == 3


@pytest.mark.django_db
def test_command_reimport_changes_nothing(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    call_command("import_subscribers", str(path))
    call_command("import_subscribers", str(path))
    assert "0 new, 0 update, 3 skip" in capsys.readouterr().out
    assert ConsentEvent.objects.count() == 3


@pytest.mark.django_db
def test_dry_run_writes_nothing(tmp_path, capsys):
    call_command("import_subscribers", str(write(tmp_path, GOOD)), "--dry-run")
    assert "would import (3 new" in capsys.readouterr().out
    assert not Subscriber.objects.exists() and not ConsentEvent.objects.exists()


@pytest.mark.django_db
def test_bad_rows_are_each_reported_and_nothing_is_written(tmp_path):
    with pytest.raises(CommandError) as failure:
        call_command("import_subscribers", str(write(tmp_path, BAD)))
    message = str(failure.value)
    assert "nothing imported" in message
    assert "row 2: phone: " in message
    assert "row 3: evidence: consent evidence is required" in message
    assert "row 4: channel: unknown channel 'fax'" in message
    assert "row 5: consent_status: unknown consent status 'maybe'" in message
    assert "row 1" not in message
    assert not Subscriber.objects.exists()  # row 1 was good, but the file is all or nothing
    assert not ConsentEvent.objects.exists()


@pytest.mark.django_db
def test_a_disallowed_transition_fails_the_row(tmp_path, subscribe):
    subscribe("+13125550101")  # opted in
    text = (
        "phone,consent_status,evidence\n+13125550102,opted_in,sheet\n+13125550101,pending,sheet\n"
    )
    with pytest.raises(
        CommandError, match="row 2: consent_status: cannot change consent from opted_in to pending"
    ):
        call_command("import_subscribers", str(write(tmp_path, text)))
    assert list(Subscriber.objects.values_list("phone", flat=True)) == ["+13125550101"]


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["sms_keyword", "provider"])
def test_an_import_cannot_resubscribe_a_number_that_texted_stop(tmp_path, subscribe, source):
    subscribe("+13125550101")
    change("+13125550101", "opted_out", source, {"text": "STOP"})
    for status in ("opted_in", "pending"):
        text = f"phone,consent_status,evidence\n+13125550101,{status},old list\n"
        with pytest.raises(
            CommandError, match=r"row 1: consent_status: .*opted out from the phone"
        ):
            call_command("import_subscribers", str(write(tmp_path, text)))
    subscriber = Subscriber.objects.get()
    assert (subscriber.consent_status, subscriber.consent_source) == ("opted_out", source)
    # An operator's opt-out, by contrast, may be undone by an import with its evidence.
    change("+13125550102", "opted_out", "admin", {"reason": "asked by email"})
    text = "phone,consent_status,evidence\n+13125550102,opted_in,signed paper form\n"
    call_command("import_subscribers", str(write(tmp_path, text)))
    assert Subscriber.objects.get(phone="+13125550102").consent_status == "opted_in"


@pytest.mark.django_db
def test_missing_evidence_column_and_unreadable_file(tmp_path):
    with pytest.raises(CommandError, match="missing column"):
        call_command("import_subscribers", str(write(tmp_path, "phone\n+13125550101\n")))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_subscribers", str(tmp_path / "nope.csv"))
    assert not Subscriber.objects.exists()


@pytest.mark.django_db
def test_admin_import_previews_then_confirms(admin_client, admin_user):
    url = reverse("admin:subscribers_subscriber_import")
    preview = admin_client.post(
        url,
        {"format": "0", "import_file": SimpleUploadedFile("fair.csv", GOOD.encode(), "text/csv")},
    )
    assert preview.status_code == 200
    assert preview.context["result"].totals["new"] == 3
    assert b"Confirm import" in preview.content
    assert not Subscriber.objects.exists()  # the preview is a dry run

    confirm = preview.context["confirm_form"]
    done = admin_client.post(
        reverse("admin:subscribers_subscriber_process_import"), confirm.initial
    )
    assert done.status_code == 302
    assert Subscriber.objects.count() == 3
    event = ConsentEvent.objects.get(subscriber__phone="+13125550101")
    assert event.evidence["file"] == "fair.csv" and event.evidence["row"] == 1
    assert event.evidence["imported_by"] == admin_user.username


@pytest.mark.django_db
def test_admin_import_shows_row_errors_and_offers_no_confirm(admin_client):
    preview = admin_client.post(
        reverse("admin:subscribers_subscriber_import"),
        {"format": "0", "import_file": SimpleUploadedFile("bad.csv", BAD.encode(), "text/csv")},
    )
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Confirm import" not in html
    assert "consent evidence is required" in html and "unknown channel" in html
    assert not Subscriber.objects.exists()


PENDING = (
    "phone,evidence,channel,consent_status\n"
    "+13125550101,web form export,sms,pending\n"
    "+13125550102,web form export,whatsapp,pending\n"
    "+13125550103,fair sheet,sms,opted_in\n"
    "+13125550104,web form export,sms,pending\n"
)


def preview(client, text: str, name: str = "members.csv"):
    return client.post(
        reverse("admin:subscribers_subscriber_import"),
        {"format": "0", "import_file": SimpleUploadedFile(name, text.encode(), "text/csv")},
    )


def test_the_columns_are_the_resources_each_with_an_example(monkeypatch):
    assert [c.name for c in describe_columns()] == SubscriberResource().get_export_headers()
    assert [(c.name, c.required) for c in describe_columns()] == [
        ("phone", True),
        ("evidence", True),
        ("channel", False),
        ("consent_status", False),
        ("timezone", False),
        ("email", False),
        ("email_status", False),
    ]
    assert all(c.meaning for c in describe_columns())
    # The e-mail columns have no example: the template imports with e-mail on or off.
    assert [c.name for c in describe_columns() if not c.example] == ["email", "email_status"]

    # A column the resource gains is listed with what its model field says.
    class Grown(SubscriberResource):
        class Meta(SubscriberResource.Meta):
            fields = (*SubscriberResource.Meta.fields, "undeliverable")

    monkeypatch.setattr("subscribers.importing.SubscriberResource", Grown)
    gained = describe_columns()[-1]
    assert (gained.name, gained.required, gained.example) == ("undeliverable", False, "False")
    assert gained.meaning.startswith("A provider reported this number cannot receive messages.")


@pytest.mark.django_db
def test_the_template_downloads_and_imports_cleanly(admin_client, ops_client):
    url = reverse("admin:subscribers_subscriber_import_template")
    response = admin_client.get(url)
    assert response["Content-Disposition"] == 'attachment; filename="subscribers-template.csv"'
    text = response.content.decode()
    # email_status is named on the page (exports carry it) but not offered to fill in.
    assert text.splitlines()[0] == "phone,evidence,channel,consent_status,timezone,email"
    report = import_csv(text, "subscribers-template.csv", dry_run=True)
    assert report.errors == [] and report.counts["new"] == 1
    page = admin_client.get(reverse("admin:subscribers_subscriber_import")).content.decode()
    assert url in page and "<code>evidence</code>" in page and "<strong>required</strong>" in page

    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    ops_client.force_login(viewer)
    assert ops_client.get(url).status_code == 403


@pytest.mark.django_db
def test_the_preview_counts_confirmations_and_their_cost(admin_client, subscribe, settings):
    from messaging.confirmations.by_phone import confirmation

    settings.SMS_PROVIDER = "twilio"
    # An operator's opt-out goes back to pending: a confirmation too.
    change("+13125550104", "opted_out", "admin", {"reason": "asked by email"})
    response = preview(admin_client, PENDING)
    forecast = response.context["result"].confirmations
    assert forecast.by_channel == {"sms": 2, "whatsapp": 1}
    expected = sum(
        confirmation(phone, channel).price_estimated
        for phone, channel in [
            ("+13125550101", "sms"),
            ("+13125550102", "whatsapp"),
            ("+13125550104", "sms"),
        ]
    )
    assert forecast.cost == expected > 0
    html = response.content.decode()
    assert (
        "3 confirmation messages will be sent for pending rows (2 SMS, 1 WhatsApp): "
        f"projected cost up to ${expected:.4f}."
    ) in html
    assert not Message.objects.exists()  # a preview sends nothing


@pytest.mark.django_db
def test_the_preview_shows_each_problem_in_a_table(admin_client):
    html = preview(admin_client, BAD).content.decode()
    table = html[html.index('<table class="import-errors">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == 5  # a header and one line per problem
    assert "<code>channel</code>" in table and "unknown channel &#x27;fax&#x27;" in table
    assert "+13125550104, fair sheet, fax" not in table  # cells are the file's own
    assert "+13125550104, sms, opted_in, fair sheet".replace("sms", "fax") in table
    assert "Traceback" not in html


@pytest.mark.django_db
def test_a_confirmation_is_all_or_nothing_too(admin_client, admin_user, subscribe):
    page = preview(admin_client, PENDING)
    assert page.context["confirm_form"] is not None
    # Between the preview and the confirmation, one number opts in by SMS: the
    # file's "pending" for it is now refused, and the whole file with it.
    subscribe("+13125550101")
    done = admin_client.post(
        reverse("admin:subscribers_subscriber_process_import"),
        page.context["confirm_form"].initial,
        follow=True,
    )
    assert "Nothing imported" in done.content.decode()
    assert list(Subscriber.objects.values_list("phone", flat=True)) == ["+13125550101"]
    assert not Message.objects.filter(kind="confirmation").exists()

    fresh = preview(admin_client, GOOD)
    admin_client.post(
        reverse("admin:subscribers_subscriber_process_import"),
        fresh.context["confirm_form"].initial,
    )
    entry = LogEntry.objects.filter(object_id=None).get()
    assert entry.user == admin_user
    assert entry.change_message == (
        "Imported (members.csv: 2 new, 0 updated, 1 unchanged; 0 confirmation messages)"
    )


@pytest.mark.django_db
def test_the_command_says_what_confirmations_a_file_sends(tmp_path, capsys):
    call_command("import_subscribers", str(write(tmp_path, PENDING)), "--dry-run")
    out = capsys.readouterr().out
    assert "3 confirmation messages will be sent for pending rows (2 SMS, 1 WhatsApp)" in out
