"""bulk_send.send_batch() in-process: answers written in groups, one failure contained."""

from decimal import Decimal

import pytest

from messaging.broadcasts import audience
from messaging.models import Broadcast, BroadcastState, Message, MessageStatus, ProviderCall
from messaging.outbound import bulk_send, dispatch
from tests.messaging.pipeline.conftest import opted_in

pytestmark = pytest.mark.django_db(transaction=True)


def queued_broadcast(n: int) -> list[Message]:
    broadcast = Broadcast.objects.create(
        idempotency_key="bulk-test", name="t", text="Hello", state=BroadcastState.SENDING
    )
    return Message.objects.bulk_create([audience.build_message(broadcast, s) for s in opted_in(n)])


def test_a_batch_is_sent_and_written_with_ids_prices_and_answer_times(recording):
    recording.PRICE = Decimal("0.00790")
    messages = queued_broadcast(2 * bulk_send.RECORD_EVERY + 3)
    tally = bulk_send.send_batch([m.pk for m in messages])
    assert tally == {MessageStatus.SENT: len(messages)}
    rows = Message.objects.order_by("id")
    assert {m.status for m in rows} == {MessageStatus.SENT}
    assert len({m.provider_message_id for m in rows}) == len(messages)
    assert all(m.provider_message_id.startswith("rec-") for m in rows)
    assert {m.price_actual for m in rows} == {Decimal("0.00790")}
    assert all(m.sent_at is not None and m.sent_at <= m.updated_at for m in rows)
    assert ProviderCall.objects.filter(outcome="sent").count() == len(messages)
    assert sorted(recording.SENT) == sorted(m.pk for m in messages)


def test_an_unexpected_failure_leaves_the_others_written(recording, monkeypatch):
    messages = queued_broadcast(5)
    broken = messages[2].pk
    prepare = dispatch.prepare

    def failing(message):  # type: ignore[no-untyped-def]
        if message.pk == broken:
            raise RuntimeError("database went away")
        return prepare(message)

    monkeypatch.setattr(dispatch, "prepare", failing)
    tally = bulk_send.send_batch([m.pk for m in messages])
    assert tally == {MessageStatus.SENT: 4, "error": 1}
    statuses = dict(Message.objects.values_list("id", "status"))
    assert statuses.pop(broken) == MessageStatus.QUEUED  # the sweep publishes it again
    assert set(statuses.values()) == {MessageStatus.SENT}
