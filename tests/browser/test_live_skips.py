"""Who a sending broadcast skipped, by reason, moves on the open broadcast page and the
dashboard as the send skips someone, without a reload, in Chromium at 1440x900 as an
Operations Manager: a reason that was not there appears, and its count matches the
progress JSON and the page the operator reloads."""

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.broadcasts.fanout import fan_out
from messaging.models import Broadcast, Message, MessageStatus
from messaging.outbound import dispatch
from subscribers import consent
from tests.messaging.pipeline.conftest import opted_in
from tests.ops.factories import OPS_PASSWORD, ops_manager

pytestmark = pytest.mark.browser

# Every skip reason a page shows for one broadcast, and its count.
READ_SKIPS = """pk => {
    const found = {};
    document.querySelectorAll(`[data-broadcast-skips="${pk}"] [data-reason]`).forEach(el => {
        if (el.closest("[hidden]")) return;
        const n = el.tagName === "TR" ? el.querySelector(".skip-count") : el;
        found[el.dataset.reason] = n.textContent.trim();
    });
    return found;
}"""


def shown_skips(visitor: Any, pk: int) -> dict[str, str]:
    return visitor.page.evaluate(READ_SKIPS, pk)


def live_skips(visitor: Any, pk: int) -> dict[str, str]:
    url = f"{visitor.base_url}{reverse('admin:messaging_broadcast_progress')}?id={pk}"
    (fields,) = visitor.page.request.get(url).json()["broadcasts"]
    return {row["reason"]: str(row["count"]) for row in fields["skips"]}


def stop_and_send(phone: str, broadcast: Broadcast) -> None:
    """A STOP between the fan-out and the send: the send skips that number, and sends
    another."""
    consent.change(phone, "opted_out", "sms_keyword", {"test": True})
    queued = Message.objects.filter(broadcast=broadcast, status=MessageStatus.QUEUED)
    dispatch.send(queued.get(phone=phone).pk)
    dispatch.send(queued.exclude(phone=phone).order_by("-pk").first().pk)


@pytest.mark.parametrize("page", ["broadcast", "dashboard"])
def test_skip_reasons_move_on_the_open_page_without_a_reload(settings, visitor, page):
    settings.SMS_PROVIDER = "console"
    recipients = opted_in(5)
    broadcast = Broadcast.objects.create(
        idempotency_key="adhoc:live-skips", name="Road closed", text="The road is closed.",
        state="sending", started_at=timezone.now(),
    )  # fmt: skip
    fan_out(broadcast.pk)
    visitor.log_in(ops_manager("ops").username, OPS_PASSWORD)
    where = reverse("admin:messaging_broadcast_change", args=[broadcast.pk])
    visitor.goto(where if page == "broadcast" else "/admin/")
    assert shown_skips(visitor, broadcast.pk) == {}
    if page == "broadcast":
        assert visitor.page.get_by_text("Nobody was skipped.").is_visible()
    loads = visitor.loads

    stop_and_send(recipients[0].phone, broadcast)
    skips = visitor.page.locator(f'[data-broadcast-skips="{broadcast.pk}"] [data-reason]')
    skips.first.wait_for(state="visible", timeout=30_000)
    assert (
        shown_skips(visitor, broadcast.pk)
        == {"opted_out": "1"}
        == live_skips(visitor, broadcast.pk)
    )
    if page == "broadcast":
        assert not visitor.page.get_by_text("Nobody was skipped.").is_visible()
    # A second number stops: the count moves.
    stop_and_send(recipients[1].phone, broadcast)
    visitor.page.wait_for_function(
        f"pk => ({READ_SKIPS})(pk).opted_out === '2'", arg=broadcast.pk, timeout=30_000
    )
    assert visitor.loads == loads  # never reloaded
    visitor.screenshot()
    # What a reload shows is what moved in.
    visitor.goto(where if page == "broadcast" else "/admin/")
    assert (
        shown_skips(visitor, broadcast.pk)
        == {"opted_out": "2"}
        == live_skips(visitor, broadcast.pk)
    )
