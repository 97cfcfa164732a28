"""The address in the subscribers file (import and export), in erasure and in the
DynamoDB mirror."""

import csv
import io

import pytest
from django.urls import reverse

from messaging.models import Message
from subscribers import consent
from subscribers.consent import address_hash
from subscribers.erasure import erase
from subscribers.importing import import_csv
from subscribers.models import ConsentEvent, Subscriber
from tests.email.conftest import SENDER
from tests.mirror.conftest import wait_for

HEADER = "phone,evidence,channel,consent_status,email\n"


@pytest.fixture
def email_from(settings):
    settings.EMAIL_FROM = SENDER


@pytest.mark.django_db
def test_an_imported_address_is_pending_and_sent_a_confirmation(
    email_from, django_capture_on_commit_callbacks
):
    text = HEADER + (
        "+13125550170,fair sheet,email,opted_in,Reader@Example.COM\n"
        "+13125550171,fair sheet,sms,pending,\n"
    )
    preview = import_csv(text, "list.csv", dry_run=True)
    assert preview.errors == []
    # The number's confirmation goes by SMS even when e-mail carries the daily message.
    assert preview.confirmations.by_channel == {"email": 1, "sms": 1}
    assert str(preview.confirmations).startswith(
        "2 confirmation messages will be sent for pending rows (1 E-mail, 1 SMS)"
    )
    assert not Subscriber.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        import_csv(text, "list.csv", dry_run=False)
    reader = Subscriber.objects.get(phone="+13125550170")
    assert (reader.consent_status, reader.channel) == ("opted_in", "email")
    assert (reader.email, reader.email_status) == ("Reader@example.com", "pending")
    event = ConsentEvent.objects.get(subscriber=reader, address_kind="email")
    assert (event.source, event.to_status) == ("import", "pending")
    assert event.evidence["file"] == "list.csv" and event.evidence["row"] == 1
    queued = Message.objects.filter(kind="confirmation").values_list("phone", "channel")
    assert sorted(queued) == [("+13125550170", "email"), ("+13125550171", "sms")]

    # The file again, and its export: the address on record stays as it is.
    with django_capture_on_commit_callbacks(execute=True):
        assert import_csv(text, "list.csv", dry_run=False).counts["skip"] == 2
    assert Message.objects.filter(kind="confirmation").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("+13125550172,sheet,sms,opted_in,not-an-address", "email", "is not an e-mail address"),
        ("+13125550172,sheet,email,opted_in,", "channel", "channel email needs an address"),
        ("+13125550172,sheet,sms,opted_out,a@example.com", "email", "the number is opted out"),
        ("+13125550172,sheet,sms,opted_in,taken@example.com", "email", "another subscriber"),
    ],
)
def test_a_bad_address_is_a_row_error_and_nothing_of_the_file_is_stored(
    email_from, row, column, reason
):
    other = consent.change("+13125550179", "opted_in", "admin", {"t": 1}).subscriber
    consent.change(other.phone, "pending", "admin", {"t": 2}, email="taken@example.com")
    report = import_csv(
        HEADER + "+13125550173,sheet,sms,opted_in,\n" + row + "\n", "f.csv", dry_run=False
    )
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"row 2: {column}:") and reason in report.errors[0]
    assert list(Subscriber.objects.values_list("phone", flat=True)) == [other.phone]


@pytest.mark.django_db
def test_addresses_are_refused_while_email_is_off(settings):
    settings.EMAIL_FROM = ""
    report = import_csv(
        HEADER + "+13125550174,sheet,sms,opted_in,a@example.com\n", "f.csv", dry_run=False
    )
    assert report.errors == [
        "row 1: email: e-mail is off (EMAIL_FROM is not set): no confirmation could go"
    ]


@pytest.mark.django_db
def test_the_export_carries_the_address_and_its_consent_formula_safe(admin_client, email_from):
    subscriber = consent.change("+13125550175", "opted_in", "admin", {"t": 1}).subscriber
    consent.change(subscriber.phone, "pending", "web_form", {"t": 2}, email="=cmd@example.com")
    text = admin_client.post(reverse("admin:subscribers_subscriber_export")).content.decode()
    header, row = csv.reader(io.StringIO(text))
    exported = dict(zip(header, row, strict=True))
    assert (exported["email"], exported["email_status"]) == ("'=cmd@example.com", "pending")
    # The number's latest consent is the evidence, not the address's.
    assert exported["evidence"].startswith("Opted in by an operator in the admin")
    # Imported again, the escaped address is the same address: nothing changes.
    report = import_csv(text, "export.csv", dry_run=False)
    assert report.errors == [] and report.counts["skip"] == 1
    assert ConsentEvent.objects.filter(subscriber=subscriber).count() == 2


@pytest.mark.django_db
def test_erasure_erases_the_address_and_keeps_its_hashed_opt_out(email_from):
    subscriber = consent.change("+13125550176", "opted_in", "admin", {"t": 1}).subscriber
    consent.change(subscriber.phone, "pending", "web_form", {"t": 2}, email="gone@example.com")
    consent.change(subscriber.phone, "opted_in", "email_link", {"t": 3}, email="")
    erased = erase(Subscriber.objects.get(pk=subscriber.pk), {"admin_user": "dana"})
    erased.refresh_from_db()
    assert (erased.email, erased.email_status, erased.email_undeliverable_reason) == ("", "", "")
    last = ConsentEvent.objects.filter(subscriber=erased, address_kind="email").first()
    assert (last.to_status, last.source) == ("opted_out", "admin")
    # The proof survives for someone who presents the address, case aside.
    hashes = set(
        ConsentEvent.objects.filter(address_kind="email").values_list("email_hash", flat=True)
    )
    assert hashes == {address_hash("Gone@Example.com")}
    assert not Subscriber.objects.filter(email__iexact="gone@example.com").exists()


@pytest.mark.django_db(transaction=True)
def test_the_mirror_carries_the_address_and_its_state(celery_worker, sync_on, email_from):
    phone = "+13125550177"

    def item() -> dict | None:
        found = sync_on.get_item(
            TableName="BotSubscribers", Key={"phone": {"S": phone}}, ConsistentRead=True
        )
        return found.get("Item")

    consent.change(phone, "opted_in", "admin", {"t": 1})
    first = wait_for(item)
    assert not {"email", "email_status", "email_undeliverable"} & set(first)

    consent.change(phone, "pending", "web_form", {"t": 2}, email="mirror@example.com")
    consent.change(phone, "opted_in", "email_link", {"t": 3}, email="")
    version = Subscriber.objects.get(phone=phone).version
    latest = wait_for(lambda: (i := item()) and i["version"] == {"N": str(version)} and i)
    # The number is the table's key, raw: the address is mirrored the same way.
    assert latest["email"] == {"S": "mirror@example.com"}
    assert latest["email_status"] == {"S": "opted_in"}
    assert "email_undeliverable" not in latest
