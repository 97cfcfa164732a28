"""A broadcast through a real Celery worker against the fake Twilio, as a real account
behaves: Twilio refuses (21610) a number that opted out at Twilio, and the portal never
records that message as sent; broadcast messages expire in Twilio's queue, the double
opt-in confirmation does not."""

from datetime import date

import pytest
from django.core.management import call_command

from messaging.models import Broadcast, BroadcastState, DailyContent, Message, MessageKind
from subscribers import consent
from subscribers.models import ConsentEvent, Subscriber
from tests.fakes.twilio_server import FakeTwilio
from tests.messaging.pipeline.conftest import opted_in, wait_for

DAY = date(2026, 11, 24)
KEY = f"daily:{DAY}"


@pytest.fixture
def twilio_account(settings):
    with FakeTwilio() as server:
        for name, value in server.settings().items():
            setattr(settings, name, value)
        for name, value in server.api_key_settings().items():
            setattr(settings, name, value)
        settings.SMS_PROVIDER = "twilio"
        settings.TWILIO_SMS_FROM = "+13125550100"
        settings.TWILIO_MESSAGING_SERVICE_SID = ""
        settings.TWILIO_TIMEOUT_SECONDS = 5.0
        settings.SMS_SEND_RATE = 1000
        yield server


def finished() -> bool:
    broadcast = Broadcast.objects.filter(idempotency_key=KEY).first()
    return broadcast is not None and broadcast.state == BroadcastState.DONE


def test_a_number_blocked_at_twilio_is_failed_with_21610_and_opted_out(
    celery_worker, twilio_account
):
    subscribers = opted_in(4)
    blocked = subscribers[0].phone
    # It texted STOP to Twilio, whose webhook never reached the portal.
    twilio_account.receive("STOP", blocked)
    consent.change("+13125550190", "pending", "web_form", {"form": "signup"})
    DailyContent.objects.create(date=DAY, text="Word of the day: serendipity")

    call_command("send_daily", "--date", DAY.isoformat())
    wait_for(finished, what="the broadcast to finish")

    refused = Message.objects.get(kind=MessageKind.BROADCAST, phone=blocked)
    assert (refused.status, refused.error_code, refused.sent_at) == ("failed", "21610", None)
    subscriber = Subscriber.objects.get(phone=blocked)
    assert (subscriber.consent_status, subscriber.consent_source) == ("opted_out", "provider")
    event = ConsentEvent.objects.filter(subscriber=subscriber).order_by("-id").first()
    assert event.evidence["error_code"] == "21610"

    broadcast = Broadcast.objects.get(idempotency_key=KEY)
    assert (broadcast.sent, broadcast.failed) == (3, 1)
    accepted = {m["to"] for m in twilio_account.messages}
    assert blocked not in accepted
    # Every REST call used the API key; broadcast messages carried a ValidityPeriod.
    assert {r.user for r in twilio_account.requests} == {twilio_account.api_key_sid}
    sends = {r.form["To"]: r.form for r in twilio_account.requests}
    for subscriber in subscribers:
        assert sends[subscriber.phone]["ValidityPeriod"] == "14400"

    pending = "+13125550190"
    wait_for(lambda: pending in {m["to"] for m in twilio_account.messages},
             what="the double opt-in confirmation")  # fmt: skip
    [confirmation] = [r.form for r in twilio_account.requests if r.form.get("To") == pending]
    assert "ValidityPeriod" not in confirmation
    assert Message.objects.get(phone=pending).kind == MessageKind.CONFIRMATION
