import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from subscribers.consent import ConsentError, change, consent_changed
from subscribers.models import ConsentEvent, Subscriber
from subscribers.phones import InvalidPhone

EVIDENCE = {"text": "JOIN", "message_sid": "SM123"}


@pytest.mark.django_db
def test_change_creates_the_subscriber_and_its_evidence():
    result = change("(312) 555-0123", "opted_in", "sms_keyword", EVIDENCE)
    assert result.created and result.changed
    sub = Subscriber.objects.get()
    assert sub.phone == "+13125550123"
    assert sub.consent_status == "opted_in" and sub.consent_source == "sms_keyword"
    assert sub.opted_in_at is not None
    event = ConsentEvent.objects.get()
    assert (event.from_status, event.to_status, event.source) == ("", "opted_in", "sms_keyword")
    assert event.evidence == EVIDENCE
    assert event.phone_hash and "5550123" not in event.phone_hash


@pytest.mark.django_db
def test_whatsapp_prefix_is_stripped_and_channel_kept():
    change("whatsapp:+13125550124", "opted_in", "whatsapp_keyword", EVIDENCE, channel="whatsapp")
    assert Subscriber.objects.get().phone == "+13125550124"


@pytest.mark.django_db
def test_repeating_a_change_writes_nothing():
    change("+13125550123", "opted_out", "sms_keyword", EVIDENCE)
    again = change("+13125550123", "opted_out", "sms_keyword", EVIDENCE)
    assert not again.changed
    assert ConsentEvent.objects.count() == 1


@pytest.mark.django_db
def test_each_change_bumps_the_version():
    first = change("+13125550123", "pending", "web_form", {"ip": "192.0.2.1"})
    v1 = first.subscriber.version
    second = change("+13125550123", "opted_in", "sms_keyword", EVIDENCE)
    assert second.subscriber.version > v1
    assert [e.to_status for e in ConsentEvent.objects.all()] == ["opted_in", "pending"]


@pytest.mark.django_db
def test_refuses_bad_input_and_keeps_what_is_stored():
    change("+13125550123", "opted_in", "sms_keyword", EVIDENCE)
    with pytest.raises(ConsentError):
        change("+13125550123", "opted_out", "sms_keyword", {})
    with pytest.raises(ConsentError):
        change("+13125550123", "opted_out", "carrier_pigeon", EVIDENCE)
    with pytest.raises(ConsentError):
        change("+13125550123", "pending", "web_form", EVIDENCE)  # opted_in -> pending
    with pytest.raises(InvalidPhone):
        change("12", "opted_in", "sms_keyword", EVIDENCE)
    assert Subscriber.objects.get().consent_status == "opted_in"
    assert ConsentEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_refusal_inside_a_callers_transaction_leaves_it_usable():
    """change() takes no savepoint of its own; a refused transition must still not
    poison the transaction it was called in (the import and admin catch it per row)."""
    change("+13125550123", "opted_in", "sms_keyword", EVIDENCE)
    with transaction.atomic():
        with pytest.raises(ConsentError):
            change("+13125550123", "pending", "web_form", EVIDENCE)
        change("+13125550124", "opted_in", "sms_keyword", EVIDENCE)
    assert set(Subscriber.objects.values_list("phone", "consent_status")) == {
        ("+13125550123", "opted_in"),
        ("+13125550124", "opted_in"),
    }


@pytest.mark.django_db
def test_consent_events_cannot_be_edited_or_deleted():
    change("+13125550123", "opted_in", "sms_keyword", EVIDENCE)
    event = ConsentEvent.objects.get()
    event.source = "admin"
    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()
    with pytest.raises(PermissionDenied):
        ConsentEvent.objects.all().delete()
    with pytest.raises(PermissionDenied):
        ConsentEvent.objects.update(source="admin")
    assert ConsentEvent.objects.get().source == "sms_keyword"


@pytest.mark.django_db(transaction=True)
def test_consent_changed_is_sent_after_commit():
    seen = []

    def receiver(sender, subscriber, from_status, to_status, source, **kwargs):
        seen.append((subscriber.phone, from_status, to_status, source))

    consent_changed.connect(receiver)
    try:
        change("+13125550123", "opted_in", "sms_keyword", EVIDENCE)
    finally:
        consent_changed.disconnect(receiver)
    assert seen == [("+13125550123", "", "opted_in", "sms_keyword")]
