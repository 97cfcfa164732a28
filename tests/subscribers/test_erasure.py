"""Erasing a subscriber's personal data, through the admin action."""

import pytest
from django.urls import reverse

from messaging.models import DeliveryEvent, Message
from smsbot.models import OutboxTask
from subscribers.consent import phone_hash
from subscribers.models import ConsentEvent, Conversation, Subscriber
from tests.subscribers.conftest import run_action

CHANGELIST = reverse("admin:subscribers_subscriber_changelist")
PHONE = "+13125550123"


def message(phone: str, body: str, **fields) -> Message:
    defaults = {
        "direction": "outbound",
        "kind": "broadcast",
        "provider": "twilio",
        "status": "delivered",
    }
    return Message.objects.create(phone=phone, body=body, **{**defaults, **fields})


def erase(client, sub, **data):
    form = {"request_reference": "email of 2026-11-20", "confirm": "on", **data}
    return run_action(client, "erase_personal_data", [sub], **form)


@pytest.mark.django_db
def test_erasure_anonymises_and_keeps_the_proof(ops_client, subscribe):
    sub = subscribe(PHONE)
    other = subscribe("+13125550124")
    sent = message(PHONE, "Today's message", subscriber=sub, content_variables={"1": "Ann"})
    inbound = message(
        PHONE, "JOIN my name is Ann", direction="inbound", kind="inbound", status="received"
    )
    kept = message("+13125550124", "Today's message", subscriber=other)
    DeliveryEvent.objects.create(
        message=sent,
        provider="twilio",
        provider_message_id="SM1",
        dedupe_key="SM1:delivered",
        status="delivered",
        payload={"To": PHONE},
    )
    Conversation.objects.create(phone_number=PHONE, last_message="my name is Ann")

    page = run_action(ops_client, "erase_personal_data", [sub])
    assert page.status_code == 200 and b"Deletion request" in page.content
    assert erase(ops_client, sub, confirm="").status_code == 200  # must be confirmed
    assert Subscriber.objects.get(pk=sub.pk).erased_at is None

    assert erase(ops_client, sub).status_code == 302
    sub.refresh_from_db()
    assert sub.phone == f"erased-{sub.pk}"
    assert sub.erased_at is not None
    assert sub.consent_status == "opted_out"  # can never be messaged again
    for m in (sent, inbound):
        m.refresh_from_db()
        assert (m.body, m.phone, m.content_variables) == ("", f"erased-{sub.pk}", {})
    kept.refresh_from_db()
    assert kept.body == "Today's message" and kept.phone == "+13125550124"
    assert DeliveryEvent.objects.get().payload == {}
    assert not Conversation.objects.exists()

    events = list(ConsentEvent.objects.filter(subscriber=sub))
    assert [e.to_status for e in events] == ["opted_out", "opted_in"]
    assert {e.phone_hash for e in events} == {phone_hash(PHONE)}
    assert events[0].evidence["request_reference"] == "email of 2026-11-20"
    assert PHONE not in str(Subscriber.objects.filter(pk=sub.pk).values().get())

    mirror = OutboxTask.objects.get(task_name="subscribers.mirror_delete_subscriber")
    assert mirror.args == [PHONE]

    # The number can still be proven by whoever holds it, through the hash.
    found = ops_client.get(
        reverse("admin:subscribers_consentevent_changelist"), {"q": "(312) 555-0123"}
    )
    assert len(found.context["cl"].result_list) == 2


@pytest.mark.django_db
def test_erased_subscribers_are_left_out_of_consent_actions(admin_client, subscribe):
    sub = subscribe(PHONE)
    erase(admin_client, sub)
    run_action(admin_client, "opt_back_in", [sub], evidence="x")
    sub.refresh_from_db()
    assert sub.consent_status == "opted_out"
    assert OutboxTask.objects.filter(task_name="subscribers.mirror_delete_subscriber").count() == 1
