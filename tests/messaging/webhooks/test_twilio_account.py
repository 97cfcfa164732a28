"""A real Twilio account on day one, through signed callbacks and a real worker against the
local Twilio server: actual prices, registration errors that pause, 63016's template
fallback (once), 63049 never retried for a US number."""

import csv
import io
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command

from messaging.models import Broadcast, BroadcastState, DailyContent, Message, MessageStatus
from messaging.outbound import bulk_send, provider_errors
from messaging.tasks import fetch_twilio_prices
from subscribers import consent
from tests.fakes.twilio_server import FakeTwilio
from tests.messaging.pipeline.conftest import opted_in, wait_for
from tests.messaging.webhooks.conftest import AUTH_TOKEN, TwilioPoster

DAY = date(2026, 11, 23)
TEMPLATE = "HX" + "a" * 32


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    # Configuration banners live in the cache; the send pool's threads must not outlive us.
    cache.clear()
    yield
    cache.clear()
    bulk_send.shutdown()


@pytest.fixture
def fake(settings: Any, twilio: TwilioPoster) -> Iterator[FakeTwilio]:
    with FakeTwilio(auth_token=AUTH_TOKEN) as server:
        for name, value in server.settings().items():
            setattr(settings, name, value)
        settings.SMS_PROVIDER = "twilio"
        settings.TWILIO_SMS_FROM = "+13125550100"
        settings.TWILIO_MESSAGING_SERVICE_SID = ""
        settings.TWILIO_WHATSAPP_NUMBER = "+13125550101"
        settings.SMS_SEND_RATE = 1000
        settings.TWILIO_PRICE_FETCH_AFTER_SECONDS = 0
        settings.TWILIO_PRICE_FETCH_RATE = 1000
        yield server


def sends(fake: FakeTwilio) -> list[dict[str, str]]:
    return [r.form for r in fake.requests if r.method == "POST"]


def callback(twilio: TwilioPoster, sid: str, form: dict[str, str], pk: int | None = None) -> None:
    """Post the status callback Twilio would, to the URL the send gave it, signed.

    pk: the message the send named, once the message no longer holds that send's sid."""
    pk = pk or Message.objects.get(provider_message_id=sid).pk
    assert twilio.post(f"/webhooks/twilio/status/?message={pk}", form).status_code == 204


def daily(text: str = "Word of the day: serendipity", **more: Any) -> Broadcast:
    DailyContent.objects.create(date=DAY, text=text, **more)
    call_command("send_daily", "--date", DAY.isoformat())
    return Broadcast.objects.get(idempotency_key=f"daily:{DAY}")


def test_a_broadcast_ends_with_actual_prices_in_the_admin_and_the_cost_report(
    celery_worker, twilio, fake, admin_client
):
    opted_in(3)
    fake.price_delay = 1.0  # Twilio fills the price in a while after the final status
    broadcast = daily()
    wait_for(lambda: len(fake.messages) == 3, what="three sends")
    wait_for(lambda: Message.objects.filter(status=MessageStatus.SENT).count() == 3)
    for message in fake.messages:
        form = fake.finish(message["sid"], "delivered")
        assert "Price" not in form
        callback(twilio, message["sid"], form)
    messages = Message.objects.filter(broadcast=broadcast)
    assert set(messages.values_list("status", "price_actual")) == {("delivered", None)}

    fetch_twilio_prices.delay()  # too early: Twilio shows no price yet
    wait_for(lambda: sum(r.method == "GET" for r in fake.requests) >= 3, what="price lookups")
    time.sleep(1.2)
    fetch_twilio_prices.delay()
    wait_for(lambda: not messages.filter(price_actual__isnull=True).exists(), what="prices")
    assert set(messages.values_list("price_actual", "price_unit", "segments")) == {
        (Decimal("0.00790"), "USD", 1)
    }

    page = admin_client.get(f"/admin/messaging/message/{messages.first().pk}/change/")
    assert "0.00790" in page.content.decode()
    call_command("refresh_rollups", "--all")
    report = admin_client.get("/admin/messaging/message/costs/", {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(report.content.decode())))
    [row] = [r for r in rows if (r["provider"], r["channel"]) == ("twilio", "sms")]
    assert row["actual_usd"] == "0.02370"


def test_a_broadcast_meeting_30034_pauses_after_a_handful_and_shows_the_registration_banner(
    celery_worker, twilio, fake, settings, admin_client
):
    settings.SMS_SEND_RATE = 2  # slow enough that the callbacks come mid-broadcast
    opted_in(20)
    broadcast = daily()
    sent = Message.objects.filter(broadcast=broadcast, status=MessageStatus.SENT)
    wait_for(lambda: sent.count() >= 3, what="the first sends")
    for sid in list(sent.values_list("provider_message_id", flat=True))[:3]:
        callback(twilio, sid, fake.finish(sid, "undelivered", 30034))
    wait_for(
        lambda: Broadcast.objects.get(pk=broadcast.pk).state == BroadcastState.PAUSED,
        what="the pause",
    )
    time.sleep(1.5)  # a send already claimed may finish; nothing more is claimed
    spent = len(sends(fake))
    time.sleep(1.5)
    assert len(sends(fake)) == spent < 20
    assert Message.objects.filter(broadcast=broadcast, status=MessageStatus.QUEUED).count() > 0

    home = admin_client.get("/admin/").content.decode()
    assert "unregistered US A2P 10DLC number" in home
    assert "Register a brand and an A2P 10DLC campaign" in home
    assert "https://www.twilio.com/docs/api/errors/30034" in home
    assert "30034" in Broadcast.objects.get(pk=broadcast.pk).pause_reason


def test_a_trial_account_pauses_the_broadcast_at_21608_and_says_to_upgrade(
    celery_worker, twilio, fake, settings, admin_client
):
    # A trial account refuses every send to a number it has not verified, at the send.
    settings.SMS_SEND_RATE = 2
    fake.account.type = "Trial"
    subscribers = opted_in(20)
    fake.account.verified_numbers.add(subscribers[0].phone)  # the operator's own phone
    broadcast = daily()
    wait_for(
        lambda: Broadcast.objects.get(pk=broadcast.pk).state == BroadcastState.PAUSED,
        what="the pause",
    )
    time.sleep(1.5)  # a send already claimed may finish; nothing more is claimed
    spent = len(sends(fake))
    time.sleep(1.5)
    assert len(sends(fake)) == spent < 20
    refused = Message.objects.filter(broadcast=broadcast, error_code="21608")
    assert refused.count() >= settings.REGISTRATION_ERRORS_PAUSE_AFTER
    assert set(refused.values_list("status", "sent_at")) == {(MessageStatus.FAILED, None)}
    assert {m["to"] for m in fake.messages} <= {subscribers[0].phone}
    assert "21608" in Broadcast.objects.get(pk=broadcast.pk).pause_reason
    home = admin_client.get("/admin/").content.decode()
    assert "Upgrade the Twilio account" in home
    assert "https://www.twilio.com/docs/api/errors/21608" in home


def whatsapp_subscriber(phone: str, *, in_window: bool) -> None:
    consent.change(phone, "opted_in", "admin", {"test": True}, channel="whatsapp")
    if in_window:
        Message.objects.create(
            direction="inbound", kind="inbound", channel="whatsapp", provider="twilio",
            phone=phone, body="hi", status="received",
        )  # fmt: skip


def test_63016_by_callback_leads_to_one_template_send_never_two(celery_worker, twilio, fake):
    whatsapp_subscriber("+13125550150", in_window=True)
    broadcast = daily(whatsapp_content_sid=TEMPLATE, whatsapp_content_variables={"1": "x"})
    wait_for(lambda: Message.objects.filter(status=MessageStatus.SENT).exists(), what="a send")
    [freeform] = sends(fake)
    assert freeform.get("Body") and "ContentSid" not in freeform
    # This broadcast's message (the fake's list may hold an earlier test's sends).
    message = Message.objects.get(broadcast=broadcast)
    sid = message.provider_message_id
    failed = fake.finish(sid, "undelivered", 63016)
    for _ in range(3):  # Twilio retries a callback it thinks was lost; ours are replays
        callback(twilio, sid, failed, message.pk)
    # The late "failed" for the free-form attempt may come after the template attempt
    # dropped that attempt's sid: it must not settle (or resend) the template attempt.
    late = {**failed, "MessageStatus": "failed", "SmsStatus": "failed"}
    callback(twilio, sid, late, message.pk)
    wait_for(lambda: len(sends(fake)) == 2, what="the template send")
    time.sleep(1.0)
    _freeform, template = sends(fake)
    assert template["ContentSid"] == TEMPLATE and "Body" not in template
    assert len(sends(fake)) == 2
    message = Message.objects.get(broadcast=broadcast)
    assert (message.status, message.body, message.content_sid) == ("sent", "", TEMPLATE)


def test_63049_is_never_retried_for_a_us_number_and_is_counted_apart(
    celery_worker, twilio, fake, settings
):
    settings.OPTIN_ALLOWED_COUNTRIES = ["US", "AU"]
    whatsapp_subscriber("+13125550160", in_window=False)
    whatsapp_subscriber("+61491570006", in_window=False)
    broadcast = daily(whatsapp_content_sid=TEMPLATE)
    wait_for(lambda: Message.objects.filter(status=MessageStatus.SENT).count() == 2)
    for message in fake.messages:
        callback(twilio, message["sid"], fake.finish(message["sid"], "undelivered", 63049))
    australian = Message.objects.get(broadcast=broadcast, phone="+61491570006")
    wait_for(lambda: Message.objects.get(pk=australian.pk).status == MessageStatus.QUEUED)
    australian.refresh_from_db()
    assert australian.next_attempt_at is not None  # again later, after a growing delay
    time.sleep(0.5)
    american = Message.objects.get(broadcast=broadcast, phone="+13125550160")
    assert american.status == MessageStatus.UNDELIVERED
    assert sum(f["To"] == "whatsapp:+13125550160" for f in sends(fake)) == 1
    assert provider_errors.counts_by_error(broadcast) == {"63049": 2}
