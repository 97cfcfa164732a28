"""Reply pumping: signed inbound messages that try to make the portal pay for replies.

A signed webhook costs an attacker (or another bot in a loop with ours) nothing; each
reply costs the portal a message. Every attack below is a burst of genuinely signed
Twilio or SNS requests. A request counts as refused when it got no paid reply: its
TwiML holds no <Message>, or no new billed outbound message exists after it. A paid
reply beyond what the limits allow counts as not refused.
"""

from decimal import Decimal
from xml.etree import ElementTree

import pytest

from messaging.models import BILLED_STATUSES, Message
from subscribers.consent import change
from tests.messaging.webhooks.conftest import post_sns

PHONE = "+13125550123"
# The portal answers keywords here (TWILIO_OPT_OUT_HANDLING=portal); Twilio answering
# them itself is tested in test_twilio_opt_out_handling.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("portal_answers")]


def billed() -> int:
    return Message.objects.filter(direction="outbound", status__in=BILLED_STATUSES).count()


def paid_twiml(response) -> bool:
    return response.status_code == 200 and bool(
        ElementTree.fromstring(response.content).findall("Message")
    )


def pump_twilio(probe, twilio, text: str, times: int, sender: str = PHONE) -> None:
    for n in range(times):
        body = text.format(n=n)
        response = twilio.inbound(body, sender=sender)
        probe.attack(response, refused=response.status_code == 200 and not paid_twiml(response))


def test_hi_from_a_number_that_never_opted_in(probe, twilio):
    pump_twilio(probe, twilio, "hi", 60)
    assert billed() == 0 and Message.objects.filter(direction="inbound").count() == 60


def test_varied_text_from_a_number_that_never_opted_in(probe, twilio):
    pump_twilio(probe, twilio, "question {n}", 30)
    pump_twilio(probe, twilio, "PAUSE {n}", 10)  # window keywords are no way round it
    assert billed() == 0


def test_hi_over_sns_from_a_number_that_never_opted_in(
    probe, client, sns_signer, published, django_capture_on_commit_callbacks
):
    for _ in range(60):
        before = billed() + Message.objects.filter(direction="outbound").count()
        with django_capture_on_commit_callbacks(execute=True):
            response = post_sns(client, sns_signer.inbound_sms("hi"))
        after = billed() + Message.objects.filter(direction="outbound").count()
        probe.attack(response, refused=response.status_code == 200 and after == before)
    assert published == []


def test_help_repeated_is_answered_once_a_day(probe, twilio):
    # The first HELP is the answer the law requires; every repeat must get nothing.
    probe.must_refuse = 59
    pump_twilio(probe, twilio, "HELP", 60)
    assert billed() == 1


def test_stop_start_flapping_from_one_number(probe, twilio, settings):
    # STOP is answered once a day; START's answer is an ordinary reply: the per-number
    # limit (and the loop breaker) bound it.
    settings.BOT_LOOP_BURST_MESSAGES = 0
    allowed = 1 + settings.BOT_REPLIES_PER_NUMBER_PER_HOUR
    probe.must_refuse = 40 - allowed
    for n in range(40):
        response = twilio.inbound("STOP" if n % 2 == 0 else "START")
        probe.attack(response, refused=not paid_twiml(response))
    assert billed() <= allowed


def test_an_opted_in_number_flooding_the_bot(probe, twilio, settings):
    change(PHONE, "opted_in", "web_form", {"form": "test"})
    limit = settings.BOT_REPLIES_PER_NUMBER_PER_HOUR
    for _ in range(limit):  # the allowance: these may be answered (the loop breaker
        twilio.inbound("hi")  # stops them sooner)
    pump_twilio(probe, twilio, "hi", 60 - limit)
    assert billed() <= limit


def test_an_opted_in_number_flooding_with_varied_text_and_no_loop_breaker(probe, twilio, settings):
    settings.BOT_LOOP_REPEATS = settings.BOT_LOOP_BURST_MESSAGES = 0
    change(PHONE, "opted_in", "web_form", {"form": "test"})
    limit = settings.BOT_REPLIES_PER_NUMBER_PER_HOUR
    for n in range(limit):
        assert paid_twiml(twilio.inbound(f"genuine question {n}"))
    pump_twilio(probe, twilio, "flood {n}", 60 - limit)
    assert billed() == limit


def test_conversation_past_the_spend_limit(probe, twilio, settings):
    settings.SMS_MONTHLY_SPEND_LIMIT_USD = Decimal("0.01")
    Message.objects.create(
        direction="outbound", kind="broadcast", provider="twilio", phone="+13125550199",
        body="spent", status="sent", price_estimated=Decimal("0.01"),
    )  # fmt: skip
    change(PHONE, "opted_in", "web_form", {"form": "test"})
    pump_twilio(probe, twilio, "message {n}", 20)
    assert billed() == 1  # the month's spend before the attack, nothing more
