"""One broadcast followed in Chromium by an Operations Manager, from compose through a
quiet-hours hold to done: at every step the dashboard, the broadcast's page, the live
progress JSON and the message list filtered by each outcome show the same figures.

The portal's clock is the `clock` fixture (the live server and the Celery worker run in
this process); the minute check that releases held messages is called as beat would.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from messaging.broadcasts import waves
from messaging.delivery import reports as delivery
from messaging.models import Broadcast, BroadcastState, Message, MessageStatus
from messaging.outcomes import BUCKETS
from subscribers.models import Subscriber

# The pipeline's clean slate and its recording provider, whose sends are recorded.
from tests.messaging.pipeline.conftest import _clean_cache, opted_in, recording, wait_for  # noqa: F401
from tests.messaging.pipeline.test_outcomes import NIGHT, QUIET_ENDS, night  # noqa: F401
from tests.ops.factories import OPERATOR_PERMISSIONS, OPS_PASSWORD, ops_manager

pytestmark = pytest.mark.browser

# Two recipients keep New York's clock: their quiet hours end at 08:00 EST, 07:00 in Chicago.
NEW_YORK_MORNING = datetime(2027, 1, 16, 13, 0, tzinfo=UTC)
BUCKET_NAMES = [bucket for bucket, _ in BUCKETS]
SHOWN = (*BUCKET_NAMES, "state", "progress", "holds")
# Every data-live field of one broadcast on the page in front of the operator.
READ_FIGURES = """pk => {
    const found = {};
    document.querySelectorAll(`[data-broadcast="${pk}"][data-live]`).forEach(el => {
        if (el.dataset.live !== "bar") found[el.dataset.live] = el.textContent.trim();
    });
    return found;
}"""


def on_screen(visitor: Any, pk: int) -> dict[str, str]:
    figures = visitor.page.evaluate(READ_FIGURES, pk)
    return {k: figures.get(k) for k in SHOWN}


def live_json(visitor: Any, pk: int) -> dict[str, Any]:
    """The live endpoint as the page's script asks it, with the operator's session."""
    url = f"{visitor.base_url}{reverse('admin:messaging_broadcast_progress')}?id={pk}"
    answer = visitor.page.request.get(url)
    assert answer.ok, answer.status
    (fields,) = answer.json()["broadcasts"]
    return fields


def listed(visitor: Any, pk: int, bucket: str, label: str) -> list[str]:
    """The status of each message the message list shows under one outcome."""
    changelist = reverse("admin:messaging_message_changelist")
    visitor.goto(f"{changelist}?broadcast__id__exact={pk}&outcome={bucket}")
    page = visitor.page
    # The sidebar says which outcome the list is filtered by.
    assert page.locator("#changelist-filter li.selected", has_text=label).count() == 1
    return sorted(page.locator("#result_list td.field-status_display").all_inner_texts())


def every_screen_agrees(visitor: Any, broadcast: Broadcast) -> tuple[dict[str, str], list[str]]:
    """The figures of the live JSON, checked against each screen; returns them, and the
    statuses the message list gives the held messages."""
    pk = broadcast.pk
    fields = live_json(visitor, pk)
    shown = {k: fields["text"][k] for k in SHOWN}
    visitor.goto("/admin/")
    assert on_screen(visitor, pk) == shown, "the dashboard"
    visitor.goto(reverse("admin:messaging_broadcast_change", args=[pk]))
    assert on_screen(visitor, pk) == shown, "the broadcast's page"
    rows = {bucket: listed(visitor, pk, bucket, label) for bucket, label in BUCKETS}
    counts = {bucket: str(len(statuses)) for bucket, statuses in rows.items()}
    assert counts == {b: shown[b] for b in BUCKET_NAMES}, "the message list by outcome"
    # Nothing else changed while the screens were read.
    assert {k: live_json(visitor, pk)["text"][k] for k in SHOWN} == shown
    return shown, rows["held"]


def moves_by_itself(visitor: Any, pk: int, field: str, text: str) -> None:
    """The open broadcast page shows text in field without being reloaded."""
    loads = visitor.loads
    visitor.page.locator(f'[data-broadcast="{pk}"][data-live="{field}"]', has_text=text).wait_for(
        timeout=30_000
    )
    assert visitor.loads == loads
    visitor.screenshot()


def report(messages: list[Message], status: str, code: str = "") -> None:
    for m in messages:
        delivery.apply(delivery.Report(m.provider, m.provider_message_id, status,
                                       f"{m.pk}:{status}", error_code=code))  # fmt: skip


def test_one_broadcast_reads_the_same_on_every_screen_from_compose_to_done(
    night,  # noqa: F811 (imported above, as a fixture)
    recording,  # noqa: F811
    celery_worker,
    visitor,
):
    chicago = opted_in(4)
    new_york = opted_in(2, start=110)
    Subscriber.objects.filter(pk__in=[s.pk for s in new_york]).update(timezone="America/New_York")
    # Logged in at 04:20 Chicago time, as the portal's clock reads it.
    user = ops_manager("ops", extra_permissions=OPERATOR_PERMISSIONS)
    visitor.log_in(user.username, OPS_PASSWORD)
    page = visitor.page

    # Compose → preview → the confirmation step → confirm.
    visitor.goto(reverse("admin:messaging_broadcast_changelist"))
    visitor.follow(page.get_by_role("link", name="Compose a broadcast"))
    page.fill("#id_name", "Snow day")
    page.fill("#id_text", "The office is closed today.")
    visitor.follow(page.get_by_role("button", name="Preview ›"))
    assert page.locator("#recipients").inner_text() == "6"
    visitor.follow(page.get_by_role("button", name="Send now to 6 recipients"))
    assert "Recipients\t6" in page.locator("#content-main").inner_text()
    # All six are asleep: the step before the send says until when, and ends no earlier.
    quiet = "6: held until their quiet hours (21:00-08:00 their time) end, the last at 08:00 CST"
    assert page.locator("#confirm-quiet").inner_text() == quiet
    assert page.locator("#confirm-finish").inner_text().startswith("Sat 16 Jan 2027, 08:00 CST")
    broadcast = Broadcast.objects.get(name="Snow day")
    assert not Message.objects.filter(broadcast=broadcast).exists()  # not before confirming
    visitor.follow(page.get_by_role("button", name="Confirm: send now to 6 recipients"))
    assert page.url.endswith(reverse("admin:messaging_broadcast_change", args=[broadcast.pk]))

    # Held: it is night for every recipient, and every screen says until when, and why.
    holds = "2 held until 07:00 CST (quiet hours); 4 held until 08:00 CST (quiet hours)"
    moves_by_itself(visitor, broadcast.pk, "holds", holds)
    shown, held = every_screen_agrees(visitor, broadcast)
    assert (shown["held"], shown["queued"], shown["sent"], shown["holds"]) == ("6", "0", "0", holds)
    assert shown["progress"] == "0 of 6 processed (0%)"
    assert shown["state"] == "Sending"
    # Each held message says so in the list too, with its own time.
    assert (
        held
        == ["Held until 07:00 CST (quiet hours)"] * 2 + ["Held until 08:00 CST (quiet hours)"] * 4
    )
    assert recording.SENT == []

    # Partly sent: morning in New York. The minute check releases its two, the worker sends.
    night.set(NEW_YORK_MORNING + timedelta(minutes=1))
    visitor.goto(reverse("admin:messaging_broadcast_change", args=[broadcast.pk]))
    assert waves.check().released == 2
    moves_by_itself(visitor, broadcast.pk, "progress", "2 of 6 processed (33%)")
    shown, held = every_screen_agrees(visitor, broadcast)
    assert (shown["sent"], shown["held"], shown["queued"]) == ("2", "4", "0")
    assert shown["holds"] == "4 held until 08:00 CST (quiet hours)"
    assert held == ["Held until 08:00 CST (quiet hours)"] * 4
    assert len(recording.SENT) == 2

    # Their reports: one delivered, one undelivered (which is a failure: it did not arrive).
    first = list(Message.objects.filter(broadcast=broadcast, status=MessageStatus.SENT))
    report(first[:1], "delivered")
    report(first[1:], "undelivered", "30003")
    shown, _ = every_screen_agrees(visitor, broadcast)
    assert (shown["sent"], shown["delivered"], shown["failed"], shown["held"]) == (
        "0", "1", "1", "4",
    )  # fmt: skip
    assert shown["progress"] == "2 of 6 processed (33%)"

    # Done: 08:00 in Chicago. The rest go, and the page sees the broadcast finish.
    night.set(QUIET_ENDS + timedelta(minutes=1))
    visitor.goto(reverse("admin:messaging_broadcast_change", args=[broadcast.pk]))
    assert waves.check().released == 4
    moves_by_itself(visitor, broadcast.pk, "state", "Done")
    wait_for(lambda: Broadcast.objects.get(pk=broadcast.pk).state == BroadcastState.DONE,
             what="the broadcast to be done")  # fmt: skip
    shown, _ = every_screen_agrees(visitor, broadcast)
    assert (shown["sent"], shown["delivered"], shown["failed"]) == ("4", "1", "1")
    assert (shown["held"], shown["queued"], shown["holds"]) == ("0", "0", "")
    assert shown["progress"] == "6 of 6 processed (100%)"

    # The last reports: three delivered, one undelivered. Nothing is left to move.
    rest = list(Message.objects.filter(broadcast=broadcast, status=MessageStatus.SENT))
    assert {m.subscriber_id for m in rest} == {s.pk for s in chicago}
    report(rest[:3], "delivered")
    report(rest[3:], "undelivered", "30003")
    shown, _ = every_screen_agrees(visitor, broadcast)
    assert (shown["sent"], shown["delivered"], shown["failed"]) == ("0", "4", "2")
    # Every report is in; a STOP may still count for it (BROADCAST_ATTRIBUTION_HOURS).
    assert live_json(visitor, broadcast.pk)["live"] is True
    Broadcast.objects.filter(pk=broadcast.pk).update(
        finished_at=night.now() - timedelta(hours=settings.BROADCAST_ATTRIBUTION_HOURS + 1)
    )
    assert live_json(visitor, broadcast.pk)["live"] is False  # nothing left to move
