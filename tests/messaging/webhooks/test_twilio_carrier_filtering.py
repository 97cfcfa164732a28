"""A rise of 30007 (carrier filtering) in a broadcast's status callbacks pauses it for an
operator, with the filtered content named; a few do not."""

import pytest
from django.core.cache import cache

from messaging.models import Broadcast, BroadcastState, Message
from tests.messaging.pipeline.conftest import opted_in
from tests.messaging.webhooks.conftest import new_sid

pytestmark = pytest.mark.django_db
TEXT = "Huge SALE today only!!! Click bit.ly/xyz"


def broadcast_of(n: int) -> tuple[Broadcast, list[Message]]:
    broadcast = Broadcast.objects.create(
        idempotency_key="adhoc:1", name="Offer", text=TEXT, state=BroadcastState.SENDING
    )
    messages = [
        Message.objects.create(
            direction="outbound", kind="broadcast", provider="twilio", phone=s.phone,
            subscriber=s, broadcast=broadcast, body=TEXT, status="sent",
            provider_message_id=new_sid(),
        )
        for s in opted_in(n)
    ]  # fmt: skip
    return broadcast, messages


def report(twilio, messages: list[Message], filtered: int) -> None:
    # The filtered ones last: the brake checks as each failure arrives.
    for i, message in enumerate(messages):
        blocked = i >= len(messages) - filtered
        extra = {"ErrorCode": "30007"} if blocked else {}
        status = "undelivered" if blocked else "delivered"
        twilio.status(message.provider_message_id, status, **extra)


def test_a_rise_of_30007_pauses_the_broadcast_naming_the_content(twilio, admin_client):
    cache.clear()
    broadcast, messages = broadcast_of(20)
    report(twilio, messages, filtered=2)  # 10% of 20 reports: the brake, as they arrive
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.PAUSED
    assert "30007" in broadcast.pause_reason and "Huge SALE today only" in broadcast.pause_reason
    assert "Huge SALE today only" in admin_client.get("/admin/").content.decode()


@pytest.mark.parametrize(("reports", "filtered"), [(20, 1), (19, 5)])
def test_a_few_filtered_or_too_few_reports_do_not_pause(twilio, reports, filtered):
    # 1 of 20 is 5%, not above the threshold; 5 of 19 is under the 20 reports needed.
    broadcast, messages = broadcast_of(reports)
    report(twilio, messages, filtered=filtered)
    assert Broadcast.objects.get(pk=broadcast.pk).state == BroadcastState.SENDING
