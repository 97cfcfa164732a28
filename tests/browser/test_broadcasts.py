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


@pytest.mark.browser
def test_a_stop_after_the_page_opened_shows_in_what_it_caused_without_a_reload(
    ops_visitor, settings
):
    """A signed STOP, posted to the live server over HTTP while the broadcast's page is
    open, moves its STOP figure and rate in place (broadcast_live.js, the progress view)."""
    import urllib.request
    from urllib.parse import urlencode

    from django.utils import timezone
    from twilio.request_validator import RequestValidator

    from subscribers.consent import change

    token = "test-twilio-auth-token-0123456789"
    settings.TWILIO_AUTH_TOKEN, settings.TWILIO_VALIDATE_SIGNATURES = token, True
    broadcast = Broadcast.objects.create(
        idempotency_key="adhoc:live-caused", name="Launch day", text="We launch today",
        state=BroadcastState.DONE, fanout_done=True, finished_at=timezone.now(),
    )  # fmt: skip
    phones = ["+13125550140", "+13125550141", "+13125550142", "+13125550143"]
    for phone in phones:
        subscriber = change(phone, "opted_in", "admin", {"test": True}).subscriber
        message(phone=phone, kind="broadcast", broadcast=broadcast, subscriber=subscriber,
                sent_at=timezone.now())  # fmt: skip
    page = ops_visitor.page
    ops_visitor.goto(f"/admin/messaging/broadcast/{broadcast.pk}/change/")
    stops = page.locator('#broadcast-caused [data-live="caused-stops"]')
    rate = page.locator('#broadcast-caused [data-live="caused-stops-rate"]')
    assert (stops.inner_text(), rate.inner_text()) == ("0", "(0.0%)")
    loads = ops_visitor.loads

    path = "/webhooks/twilio/inbound/"
    params = {
        "MessageSid": "SM" + "4" * 32, "AccountSid": "AC" + "0" * 32, "From": phones[0],
        "To": "+13125550100", "Body": "STOP", "NumMedia": "0", "OptOutType": "STOP",
    }  # fmt: skip
    signature = RequestValidator(token).compute_signature(settings.PUBLIC_BASE_URL + path, params)
    request = urllib.request.Request(
        ops_visitor.base_url + path, urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200

    page.wait_for_function(
        """() => document.querySelector('#broadcast-caused [data-live="caused-stops"]')
            .textContent === "1" """,
        timeout=30_000,
    )
    assert rate.inner_text() == "(25.0%)"
    assert ops_visitor.loads == loads  # no reload: the script wrote it in
