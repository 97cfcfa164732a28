"""TWILIO_OPT_OUT_HANDLING=twilio (the default): on SMS, Twilio answers STOP/START/HELP
itself and the portal only records what they did; WhatsApp keywords are the portal's.

Each inbound message goes through the fake Twilio first (its own answer, its block on
the number, OptOutType with Advanced Opt-Out), then to the portal as the signed webhook
Twilio would post.
"""

from collections.abc import Iterator

import pytest

from messaging.models import Message
from subscribers.consent import change
from subscribers.models import ConsentEvent, Subscriber
from tests.fakes.twilio_server import FakeTwilio
from tests.messaging.webhooks.conftest import AUTH_TOKEN, OUR_NUMBER, TwilioPoster
from tests.messaging.webhooks.test_twilio_inbound import reply_of

PHONE = "+13125550123"
INBOUND = "/webhooks/twilio/inbound/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def server() -> Iterator[FakeTwilio]:
    with FakeTwilio(auth_token=AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def text(server: FakeTwilio, twilio: TwilioPoster):
    """A phone texts our number: Twilio's side first, then the webhook it signs and posts."""

    def send(body: str, sender: str = PHONE):
        to = ("whatsapp:" if sender.startswith("whatsapp:") else "") + OUR_NUMBER
        return twilio.post(INBOUND, server.receive(body, sender, to))

    return send


def outbound() -> list[Message]:
    return list(Message.objects.filter(direction="outbound"))


def test_twilio_is_the_default():
    from django.conf import settings

    assert settings.TWILIO_OPT_OUT_HANDLING == "twilio"


def test_stop_on_sms_is_recorded_and_answered_only_by_twilio(server, text):
    change(PHONE, "opted_in", "web_form", {"form": "signup"})
    assert reply_of(text("STOP")) == ""
    subscriber = Subscriber.objects.get(phone=PHONE)
    assert subscriber.consent_status == "opted_out"
    event = subscriber.consent_events.order_by("-id").first()
    assert event.source == "sms_keyword"
    assert event.evidence["text"] == "STOP" and event.evidence["answered_by"] == "twilio"
    assert "opt_out_type" not in event.evidence  # default handling sends no OptOutType
    # One answer in all, Twilio's; nothing the portal would have sent is recorded.
    assert [r["keyword"] for r in server.own_replies] == ["STOP"]
    assert outbound() == []
    assert PHONE in server.blocked


def test_help_on_sms_gets_one_answer_twilios(server, text):
    assert reply_of(text("help")) == ""
    assert [r["keyword"] for r in server.own_replies] == ["HELP"]
    assert outbound() == [] and not Subscriber.objects.exists()
    assert Message.objects.get().body == "help"  # the inbound itself is kept


def test_start_on_sms_opts_back_in_and_twilio_unblocks(server, text):
    text("STOP")
    assert reply_of(text("Start")) == ""
    assert Subscriber.objects.get().consent_status == "opted_in"
    assert ConsentEvent.objects.count() == 2
    assert [r["keyword"] for r in server.own_replies] == ["STOP", "START"]
    assert server.blocked == set() and outbound() == []


def test_advanced_opt_out_records_the_opt_out_type(server, text):
    server.advanced_opt_out = True
    change(PHONE, "opted_in", "web_form", {"form": "signup"})
    assert reply_of(text("stopall")) == ""
    event = ConsentEvent.objects.order_by("-id").first()
    assert (event.to_status, event.evidence["opt_out_type"]) == ("opted_out", "STOP")


def test_a_custom_keyword_reaches_the_portal_only_through_opt_out_type(server, text):
    server.advanced_opt_out = True
    server.custom_keywords["CANCELAR"] = "STOP"
    change(PHONE, "opted_in", "web_form", {"form": "signup"})
    assert reply_of(text("Cancelar")) == ""
    subscriber = Subscriber.objects.get()
    assert subscriber.consent_status == "opted_out"
    event = subscriber.consent_events.order_by("-id").first()
    assert event.evidence["text"] == "Cancelar"
    assert (event.evidence["opt_out_type"], event.evidence["answered_by"]) == ("STOP", "twilio")
    assert outbound() == [] and PHONE in server.blocked


def test_without_advanced_opt_out_a_custom_word_is_a_conversation(server, text):
    server.custom_keywords["CANCELAR"] = "STOP"  # configured, but the feature is off
    change(PHONE, "opted_in", "web_form", {"form": "signup"})
    text("Cancelar")
    assert Subscriber.objects.get().consent_status == "opted_in"
    assert server.own_replies == []


def test_a_keyword_twilio_does_not_know_is_answered_by_the_portal(server, text, settings):
    # "REMOVE" is an AWS keyword and "Stop." has punctuation: Twilio matches neither,
    # so it answers nothing and blocks nothing; the portal opts out and confirms.
    change(PHONE, "opted_in", "web_form", {"form": "signup"})
    assert reply_of(text("REMOVE")) == settings.KEYWORD_REPLY_STOP
    assert reply_of(text("Stop.", sender="+13125550124")) == settings.KEYWORD_REPLY_STOP
    assert server.own_replies == [] and server.blocked == set()
    assert Subscriber.objects.get(phone=PHONE).consent_status == "opted_out"
    assert {m.status for m in outbound()} == {"sent"}


def test_on_whatsapp_the_portal_answers(server, text, settings):
    whatsapp = f"whatsapp:{PHONE}"
    assert reply_of(text("JOIN MITZVAH", sender=whatsapp)) == settings.KEYWORD_REPLY_START
    assert reply_of(text("HELP", sender=whatsapp)).startswith("Daily messages")
    assert reply_of(text("STOP", sender=whatsapp)) == settings.KEYWORD_REPLY_STOP
    assert server.own_replies == [] and server.blocked == set()
    subscriber = Subscriber.objects.get()
    assert (subscriber.channel, subscriber.consent_status) == ("whatsapp", "opted_out")
    assert "answered_by" not in subscriber.consent_events.order_by("-id").first().evidence


def test_portal_mode_answers_as_before(server, text, settings):
    settings.TWILIO_OPT_OUT_HANDLING = "portal"
    server.default_opt_out = False  # where portal mode belongs: Twilio's handling is off
    assert reply_of(text("HELP")).startswith("Daily messages")
    assert reply_of(text("STOP", sender="+13125550124")) == settings.KEYWORD_REPLY_STOP
    assert Subscriber.objects.get(phone="+13125550124").consent_status == "opted_out"
    assert [m.kind for m in outbound()] == ["compliance", "compliance"]
    assert server.own_replies == [] and server.blocked == set()  # one answer, the portal's


def test_portal_mode_still_trusts_opt_out_type(server, text, settings):
    # OptOutType is only sent when Twilio's Advanced Opt-Out answered: a second answer
    # from the portal would be the duplicate this setting exists to avoid.
    settings.TWILIO_OPT_OUT_HANDLING = "portal"
    server.advanced_opt_out = True
    assert reply_of(text("STOP")) == ""
    assert Subscriber.objects.get().consent_status == "opted_out" and outbound() == []


def test_portal_mode_answers_start_and_opts_back_in(server, text, settings):
    settings.TWILIO_OPT_OUT_HANDLING = "portal"
    server.default_opt_out = False
    change(PHONE, "opted_out", "sms_keyword", {"text": "STOP"})
    assert reply_of(text("START")) == settings.KEYWORD_REPLY_START
    assert Subscriber.objects.get().consent_status == "opted_in"
    assert [m.kind for m in outbound()] == ["reply"] and server.own_replies == []


def test_portal_mode_takes_a_custom_keyword_from_opt_out_type(server, text, settings):
    # Advanced Opt-Out answered a console-configured word: the portal must not answer it
    # again, whatever its own setting, and records the opt-out with Twilio's evidence.
    settings.TWILIO_OPT_OUT_HANDLING = "portal"
    server.advanced_opt_out = True
    server.custom_keywords["BAJA"] = "STOP"
    change(PHONE, "opted_in", "web_form", {"form": "signup"})
    assert reply_of(text("baja")) == ""
    event = Subscriber.objects.get().consent_events.order_by("-id").first()
    assert (event.to_status, event.evidence["opt_out_type"]) == ("opted_out", "STOP")
    assert outbound() == [] and [r["keyword"] for r in server.own_replies] == ["STOP"]


def post_answer_status(twilio: TwilioPoster, url: str, form: dict[str, str]) -> None:
    """Post, signed, the status Twilio sends to the TwiML answer's action URL."""
    assert url.startswith(twilio.base_url)
    assert twilio.post(url.removeprefix(twilio.base_url), form).status_code == 204


def test_an_answer_twilio_refuses_ends_failed_not_sent(server, text, twilio):
    # The number opted out at Twilio, but that STOP's webhook never reached the portal,
    # which still holds it opted in: its answer goes back in TwiML and Twilio refuses it.
    change(PHONE, "opted_in", "web_form", {"form": "signup"})
    server.block(PHONE)
    response = text("hello")
    assert reply_of(response)  # the portal answered, as far as it knew
    [(url, status)] = server.answer(response.content.decode(), PHONE)
    assert (status["MessageStatus"], status["ErrorCode"]) == ("failed", "21610")
    post_answer_status(twilio, url, status)
    [answer] = outbound()
    assert (answer.status, answer.error_code) == ("failed", "21610")
    assert answer.provider_message_id == status["MessageSid"]
    subscriber = Subscriber.objects.get()
    assert (subscriber.consent_status, subscriber.consent_source) == ("opted_out", "provider")


def test_an_answer_twilio_takes_is_followed_to_delivered(server, twilio):
    whatsapp = f"whatsapp:{PHONE}"
    params = server.receive("HELP", whatsapp, f"whatsapp:{OUR_NUMBER}")
    response = twilio.post(INBOUND, params)
    # A retried webhook gets the same TwiML, naming the same recorded answer.
    assert twilio.post(INBOUND, params).content == response.content
    [(url, status)] = server.answer(response.content.decode(), whatsapp)
    post_answer_status(twilio, url, status)
    post_answer_status(twilio, url, server.finish(status["MessageSid"], "delivered"))
    post_answer_status(twilio, url, status)  # a late "sent" does not go back
    [answer] = outbound()
    assert (answer.status, answer.provider_message_id) == ("delivered", status["MessageSid"])


def test_a_retried_webhook_changes_nothing_twice(server, twilio):
    params = server.receive("STOP", PHONE, OUR_NUMBER)
    first, second = twilio.post(INBOUND, params), twilio.post(INBOUND, params)
    assert reply_of(first) == reply_of(second) == ""
    assert ConsentEvent.objects.count() == 1 and Message.objects.count() == 1
