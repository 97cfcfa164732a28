"""One outcome model: a broadcast driven through a real worker from queued to done, held
by quiet hours on the way, while the dashboard, the broadcast's page, the live progress
JSON and the message list filtered by each outcome show the same counts at every step."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from django.urls import reverse

from messaging.broadcasts import states, waves
from messaging.delivery import reports as delivery
from messaging.models import Broadcast, BroadcastState, Message, MessageStatus
from messaging.outcomes import BUCKETS
from tests.messaging.pipeline.conftest import opted_in, wait_for

# 04:20 in Chicago (CST) on Saturday 16 January 2027: inside the quiet hours there.
NIGHT = datetime(2027, 1, 16, 10, 20, tzinfo=UTC)
QUIET_ENDS = datetime(2027, 1, 16, 14, 0, tzinfo=UTC)  # 08:00 CST
BUCKET_NAMES = [bucket for bucket, _ in BUCKETS]


def figures(html: str, pk: int) -> dict[str, str]:
    """Every data-live field of broadcast pk as a page renders it."""
    found = re.findall(rf'data-broadcast="{pk}" data-live="(\w+)"[^>]*>([^<]*)<', html)
    return {field: unescape(text).strip() for field, text in found}


def seen_everywhere(client, broadcast: Broadcast) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The counts and words of each screen; asserts they agree and returns them."""
    pk = broadcast.pk
    dashboard = figures(client.get("/admin/").content.decode(), pk)
    page = client.get(reverse("admin:messaging_broadcast_change", args=[pk])).content.decode()
    record = figures(page, pk)
    live = client.get(reverse("admin:messaging_broadcast_progress"), {"id": pk}).json()
    (fields,) = live["broadcasts"]
    listed = {}
    for bucket in BUCKET_NAMES:
        query = {"broadcast__id__exact": pk, "outcome": bucket}
        changelist = client.get(reverse("admin:messaging_message_changelist"), query)
        listed[bucket] = str(len(changelist.context["cl"].result_list))
    shown = {k: fields["text"][k] for k in (*BUCKET_NAMES, "progress", "holds")}
    for screen in (dashboard, record):
        assert {k: screen[k] for k in shown} == shown
    assert {b: shown[b] for b in BUCKET_NAMES} == listed
    return shown


@pytest.fixture
def night(clock, settings):  # type: ignore[no-untyped-def]
    settings.QUIET_HOURS = "21:00-08:00"
    settings.OPS_TIMEZONE = "America/Chicago"
    clock.set(NIGHT)
    return clock


def test_every_screen_shows_the_same_outcomes_from_queued_to_done(
    celery_worker, recording, night, admin_client
):
    opted_in(4)
    broadcast = Broadcast.objects.create(idempotency_key="adhoc:outcomes", name="Snow day",
                                         text="The office is closed", state="draft")  # fmt: skip
    assert states.start(broadcast)

    # Made at 04:20 Chicago time: every message waits for 08:00, and every screen says so.
    def all_held() -> bool:
        held = Message.objects.filter(
            broadcast=broadcast, status=MessageStatus.QUEUED, next_attempt_at=QUIET_ENDS
        )
        return held.count() == 4

    wait_for(all_held, what="the messages to be held by quiet hours")
    shown = seen_everywhere(admin_client, broadcast)
    assert shown["held"] == "4" and shown["queued"] == "0"
    assert shown["holds"] == "4 held until 08:00 CST (quiet hours)"
    assert shown["progress"] == "0 of 4 processed (0%)"
    assert recording.SENT == []

    # 08:00: the minute check releases them, the worker sends them.
    night.set(QUIET_ENDS + timedelta(minutes=1))
    assert waves.check().released == 4
    wait_for(lambda: Broadcast.objects.get(pk=broadcast.pk).state == BroadcastState.DONE,
             what="the broadcast to be done")  # fmt: skip
    shown = seen_everywhere(admin_client, broadcast)
    assert (shown["sent"], shown["held"], shown["holds"]) == ("4", "0", "")
    assert shown["progress"] == "4 of 4 processed (100%)"

    # Status callbacks: two delivered, one undelivered (a failure: it did not arrive).
    sent = list(Message.objects.filter(broadcast=broadcast).order_by("id"))
    for message, status, code in [
        (sent[0], "delivered", ""),
        (sent[1], "delivered", ""),
        (sent[2], "undelivered", "30003"),
    ]:
        delivery.apply(delivery.Report(message.provider, message.provider_message_id, status,
                                       f"{message.pk}:{status}", error_code=code))  # fmt: skip
    # At once, on every screen: no Delivered figure lags the message list.
    shown = seen_everywhere(admin_client, broadcast)
    assert (shown["sent"], shown["delivered"], shown["failed"]) == ("1", "2", "1")
    # The stored counts follow the callbacks as they follow sends.
    wait_for(
        lambda: Broadcast.objects.filter(pk=broadcast.pk, delivered=2, failed=1, sent=1).exists(),
        what="the recount after the delivery reports",
    )

    last = sent[3]
    delivery.apply(delivery.Report(last.provider, last.provider_message_id, "delivered",
                                   f"{last.pk}:delivered"))  # fmt: skip
    shown = seen_everywhere(admin_client, broadcast)
    assert (shown["sent"], shown["delivered"], shown["failed"]) == ("0", "3", "1")

    def live() -> bool:
        url = reverse("admin:messaging_broadcast_progress")
        return admin_client.get(url, {"id": broadcast.pk}).json()["broadcasts"][0]["live"]

    # Every report is in, but a STOP may still count for it (BROADCAST_ATTRIBUTION_HOURS).
    assert live() is True
    Broadcast.objects.filter(pk=broadcast.pk).update(finished_at=night.now() - timedelta(hours=25))
    assert live() is False  # nothing left to move


def test_a_paused_broadcast_holds_its_queued_messages_until_resumed(night, admin_client):
    (sub,) = opted_in(1)
    broadcast = Broadcast.objects.create(idempotency_key="adhoc:paused", name="Paused",
                                         text="Hi", state=BroadcastState.PAUSED,
                                         fanout_done=True)  # fmt: skip
    Message.objects.create(direction="outbound", kind="broadcast", provider="console",
                           phone=sub.phone, subscriber=sub, broadcast=broadcast,
                           status=MessageStatus.QUEUED)  # fmt: skip
    shown = seen_everywhere(admin_client, broadcast)
    assert (shown["held"], shown["queued"]) == ("1", "0")
    assert shown["holds"] == "1 held (broadcast paused)"


def test_an_unknown_outcome_in_the_message_list_is_refused_not_ignored(admin_client):
    response = admin_client.get(reverse("admin:messaging_message_changelist"), {"outcome": "x'"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    assert "Unknown outcome" in response.content.decode()
