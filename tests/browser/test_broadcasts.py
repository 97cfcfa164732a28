"""An Operations Manager pauses a running broadcast from the admin, in a real browser."""

import pytest

from messaging.models import Broadcast, BroadcastState
from tests.ops.factories import OPS_PASSWORD, message, ops_manager


@pytest.mark.browser
def test_operations_manager_pauses_a_running_broadcast(visitor, transactional_db):
    broadcast = Broadcast.objects.create(
        idempotency_key="daily:2026-11-22",
        name="Daily 2026-11-22",
        text="Good morning!",
        state=BroadcastState.SENDING,
    )
    for status in ("sent", "sent", "delivered", "queued", "queued"):
        message(broadcast=broadcast, kind="broadcast", status=status)
    # Operations Managers change broadcasts (messaging 0004): send, pause, resume, cancel.
    user = ops_manager("ops", extra_permissions=("messaging.change_broadcast",))
    visitor.log_in(user.username, OPS_PASSWORD)
    page = visitor.page

    visitor.goto("/admin/messaging/broadcast/")
    row = page.locator("#result_list tbody tr", has_text="Daily 2026-11-22")
    assert "3 of 5 processed (60%)" in row.inner_text()  # progress is visible
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "pause_selected")
    visitor.follow(page.locator("button[name=index]"))

    assert "Paused: 1 of 1 broadcast(s)." in page.inner_text(".messagelist")
    assert "Paused" in page.locator("#result_list tbody tr").first.inner_text()
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.PAUSED
    assert broadcast.pause_reason == "paused by ops"
