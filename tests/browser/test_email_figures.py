"""The broadcast's figures by channel, the e-mail fallback apart, in Chromium at 1440×900:
the broadcast's page, its dashboard card and the live JSON agree, and the fallback figure
leads to exactly those messages."""

from typing import Any

import pytest
from django.urls import reverse

from messaging.broadcasts import daily
from messaging.models import Broadcast, BroadcastState
from tests.browser.test_one_truth import READ_FIGURES, live_json
from tests.ops.factories import OPS_PASSWORD, message, ops_manager

pytestmark = pytest.mark.browser
CHANNEL_FIELDS = ("channel_sms", "channel_whatsapp", "channel_email", "fallback")


def by_channel(visitor: Any, pk: int) -> dict[str, str]:
    figures = visitor.page.evaluate(READ_FIGURES, pk)
    return {k: figures.get(k) for k in CHANNEL_FIELDS}


def test_the_fallback_sends_show_apart_on_every_screen(visitor, transactional_db):
    today = daily.local_today()
    broadcast = Broadcast.objects.create(
        idempotency_key=daily.key_for(today),
        name=f"Daily {today}",
        date=today,
        text="Word of the day: serendipity",
        state=BroadcastState.SENDING,
    )
    for i in range(3):
        message(broadcast=broadcast, kind="broadcast", status="sent", phone=f"+1312555016{i}")
    message(broadcast=broadcast, kind="broadcast", channel="whatsapp", provider="twilio",
            status="delivered", phone="+13125550163")  # fmt: skip
    for i, fallback in enumerate((False, True, True)):
        message(broadcast=broadcast, kind="broadcast", channel="email", provider="ses",
                status="sent", fallback=fallback, phone=f"+1312555017{i}",
                price_estimated="0.0001")  # fmt: skip
    user = ops_manager("ops")
    visitor.log_in(user.username, OPS_PASSWORD)

    expected = {"channel_sms": "3", "channel_whatsapp": "1", "channel_email": "3",
                "fallback": "2"}  # fmt: skip
    visitor.goto(reverse("admin:messaging_broadcast_change", args=[broadcast.pk]))
    assert by_channel(visitor, broadcast.pk) == expected, "the broadcast's page"
    section = visitor.page.locator(".bc-channels").inner_text()
    assert "E-mail fallback (number undeliverable) 2" in section
    visitor.screenshot()
    assert {k: live_json(visitor, broadcast.pk)["text"][k] for k in expected} == expected
    visitor.goto("/admin/")
    assert by_channel(visitor, broadcast.pk) == expected, "the dashboard"
    visitor.screenshot()

    visitor.goto(reverse("admin:messaging_broadcast_change", args=[broadcast.pk]))
    visitor.follow(visitor.page.locator(".bc-channels a", has_text="E-mail fallback"))
    rows = visitor.page.locator("#result_list tbody tr")
    assert rows.count() == 2
