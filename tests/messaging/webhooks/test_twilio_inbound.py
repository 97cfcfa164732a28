import datetime as dt
import logging
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from messaging.broadcasts import schedule
from messaging.inbound.bot import BotInput, BotReply
from messaging.models import DailyContent, Message
from subscribers.consent import change
from subscribers.models import ConsentEvent, Conversation, Subscriber
from tests.messaging.webhooks.conftest import AUTH_TOKEN, OUR_NUMBER, new_sid

PHONE = "+13125550123"
# The portal answers keywords here (TWILIO_OPT_OUT_HANDLING=portal); Twilio answering
# them itself is tested in test_twilio_opt_out_handling.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("portal_answers")]


def reply_of(response) -> str:
    """The text of the TwiML <Message>, or "" for an empty <Response/>."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Response"
    messages = root.findall("Message")
    return messages[0].text or "" if messages else ""


def opted_in(phone: str = PHONE) -> Subscriber:
    return change(phone, "opted_in", "web_form", {"form": "test"}).subscriber


# --- signatures -----------------------------------------------------------------


def test_missing_signature_is_refused_and_logged_without_the_body(twilio, caplog):
    caplog.set_level(logging.WARNING)
    params = {"MessageSid": new_sid(), "From": PHONE, "Body": "secret words"}
    response = twilio.post("/webhooks/twilio/inbound/", params, signature="")
    assert response.status_code == 403
    assert not Message.objects.exists()
    assert "X-Twilio-Signature" in caplog.text
    assert "secret words" not in caplog.text and "5550123" not in caplog.text


def test_wrong_signature_is_refused(twilio):
    params = {"MessageSid": new_sid(), "From": PHONE, "Body": "STOP"}
    forged = twilio.signature("/webhooks/twilio/inbound/", params, token="not-the-token")
    assert twilio.post("/webhooks/twilio/inbound/", params, signature=forged).status_code == 403
    assert not Subscriber.objects.exists()


def test_signature_over_other_params_is_refused(twilio):
    params = {"MessageSid": new_sid(), "From": PHONE, "Body": "HELP"}
    signature = twilio.signature("/webhooks/twilio/inbound/", params)
    params["Body"] = "STOP"
    assert twilio.post("/webhooks/twilio/inbound/", params, signature=signature).status_code == 403


def test_signed_url_is_the_public_one_not_what_the_proxy_passed(twilio):
    # Behind a TLS-terminating proxy Django sees http://127.0.0.1:8000; Twilio signed
    # PUBLIC_BASE_URL (https://portal.example.test) plus the path and query.
    path = "/webhooks/twilio/inbound/?tenant=a"
    params = {"MessageSid": new_sid(), "From": PHONE, "To": OUR_NUMBER, "Body": "HELP"}
    response = twilio.post(path, params, HTTP_HOST="127.0.0.1:8000", secure=False)
    assert reply_of(response)
    unsigned_query = twilio.signature("/webhooks/twilio/inbound/", params)
    assert twilio.post(path, params, signature=unsigned_query).status_code == 403


def test_get_is_not_allowed(twilio):
    assert twilio.client.get("/webhooks/twilio/inbound/").status_code == 405
    assert twilio.client.get("/webhooks/twilio/status/").status_code == 405


def test_without_an_auth_token_everything_is_refused(twilio, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    params = {"MessageSid": new_sid(), "From": PHONE, "Body": "HELP"}
    signature = twilio.signature("/webhooks/twilio/inbound/", params, token="")
    assert twilio.post("/webhooks/twilio/inbound/", params, signature=signature).status_code == 403


def test_validation_can_be_switched_off_for_local_development(twilio, settings):
    settings.TWILIO_VALIDATE_SIGNATURES = False
    params = {"MessageSid": new_sid(), "From": PHONE, "Body": "HELP"}
    assert reply_of(twilio.post("/webhooks/twilio/inbound/", params, signature=""))


# --- keywords -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["STOP", "stop", " Stop. ", "STOPALL", "unsubscribe", "Cancel!", "END", "quit", "REVOKE",
     "OPTOUT", "opt-out", "ARRET", "remove", "TD"],
)  # fmt: skip
def test_opt_out_words_opt_out_with_evidence(twilio, settings, text):
    opted_in()
    sid = new_sid()
    assert reply_of(twilio.inbound(text, sid=sid)) == settings.KEYWORD_REPLY_STOP
    subscriber = Subscriber.objects.get(phone=PHONE)
    assert subscriber.consent_status == "opted_out"
    event = subscriber.consent_events.order_by("-id").first()
    assert event.source == "sms_keyword"
    assert event.evidence == {
        "text": text, "message_id": sid, "from": PHONE, "to": OUR_NUMBER, "provider": "twilio",
    }  # fmt: skip


def test_the_confirmation_is_recorded_as_a_sent_compliance_reply(twilio, settings):
    sid = new_sid()
    twilio.inbound("STOP", sid=sid)
    inbound = Message.objects.get(provider_message_id=sid)
    assert (inbound.direction, inbound.kind, inbound.provider) == ("inbound", "inbound", "twilio")
    assert inbound.subscriber.phone == PHONE
    reply = inbound.replies.get()
    assert (reply.direction, reply.kind, reply.provider, reply.status) == (
        "outbound", "compliance", "twilio", "sent",
    )  # fmt: skip
    assert reply.body == settings.KEYWORD_REPLY_STOP and reply.sent_at is not None
    assert reply.price_estimated == Decimal("0.0083")


def test_stop_from_an_unknown_number_records_an_opt_out(twilio):
    twilio.inbound("STOP")
    subscriber = Subscriber.objects.get(phone=PHONE)
    assert subscriber.consent_status == "opted_out"
    assert subscriber.consent_events.get().from_status == ""


@pytest.mark.parametrize("text", ["START", "yes", "Unstop", "JOIN MITZVAH", "join mitzvah!"])
def test_opt_in_words_create_an_opted_in_subscriber(twilio, settings, text):
    assert reply_of(twilio.inbound(text)) == settings.KEYWORD_REPLY_START
    subscriber = Subscriber.objects.get(phone=PHONE)
    assert (subscriber.consent_status, subscriber.channel) == ("opted_in", "sms")
    assert subscriber.consent_source == "sms_keyword"


def test_join_word_is_configurable(twilio, settings):
    settings.JOIN_KEYWORD = "DAILY"
    twilio.inbound("JOIN MITZVAH")
    assert not Subscriber.objects.exists()
    twilio.inbound("Join daily")
    assert Subscriber.objects.get().consent_status == "opted_in"


def test_whatsapp_join_subscribes_on_whatsapp(twilio):
    twilio.inbound("JOIN MITZVAH", sender=f"whatsapp:{PHONE}")
    subscriber = Subscriber.objects.get(phone=PHONE)
    assert (subscriber.channel, subscriber.consent_source) == ("whatsapp", "whatsapp_keyword")
    message = Message.objects.get(direction="inbound")
    assert message.channel == "whatsapp" and message.replies.get().channel == "whatsapp"


def test_yes_confirms_a_pending_double_opt_in(twilio):
    change(PHONE, "pending", "web_form", {"form": "signup"})
    twilio.inbound("YES")
    subscriber = Subscriber.objects.get()
    assert subscriber.consent_status == "opted_in"
    assert subscriber.consent_events.order_by("-id").first().from_status == "pending"


def test_start_after_stop_resubscribes(twilio):
    twilio.inbound("STOP")
    twilio.inbound("START")
    assert Subscriber.objects.get().consent_status == "opted_in"
    assert ConsentEvent.objects.count() == 2


def test_help_changes_no_consent(twilio, settings):
    settings.KEYWORD_REPLY_HELP = "Custom help text"
    assert reply_of(twilio.inbound("help")) == "Custom help text"
    assert reply_of(twilio.inbound("INFO", sender="+13125550124")) == "Custom help text"
    assert not Subscriber.objects.exists()


# --- retries --------------------------------------------------------------------


def test_a_retry_changes_nothing_and_answers_the_same(twilio):
    opted_in()
    sid = new_sid()
    first = twilio.inbound("STOP", sid=sid)
    counts = (Message.objects.count(), ConsentEvent.objects.count())
    # In between, the number opted back in: the retry must not opt it out again.
    change(PHONE, "opted_in", "web_form", {"form": "again"})
    second = twilio.inbound("STOP", sid=sid)
    assert second.content == first.content
    assert (Message.objects.count(), ConsentEvent.objects.count() - 1) == counts
    assert Subscriber.objects.get().consent_status == "opted_in"


def test_a_conversation_retry_does_not_count_twice(twilio):
    sid = new_sid()
    first = twilio.inbound("hello", sid=sid)
    second = twilio.inbound("hello", sid=sid)
    assert first.content == second.content
    assert Conversation.objects.get().message_count == 1


# --- conversation ---------------------------------------------------------------


def content_for(*days: str) -> None:
    for day in days:
        DailyContent.objects.create(date=dt.date.fromisoformat(day), text=f"Thought of {day}")


def test_today_answers_with_the_content_of_the_schedules_date(twilio, clock):
    # 20:00 UTC: 1 June in Chicago (the default schedule), already 2 June in Auckland.
    clock.set(dt.datetime(2027, 6, 1, 20, 0, tzinfo=dt.UTC))
    opted_in()
    content_for("2027-06-01", "2027-06-02")
    assert reply_of(twilio.inbound("today")) == "Thought of 2027-06-01"
    # The operator moves the daily send to Auckland on the Daily schedule screen.
    schedule.update(
        hour=10, minute=0, timezone="Pacific/Auckland", enabled=True, mode="same_moment"
    )
    assert reply_of(twilio.inbound("today")) == "Thought of 2027-06-02"


def test_in_local_time_mode_today_is_the_subscribers_own_date(twilio, clock):
    clock.set(dt.datetime(2027, 6, 1, 20, 0, tzinfo=dt.UTC))
    content_for("2027-06-01", "2027-06-02")
    schedule.update(hour=10, minute=0, timezone="America/Chicago", enabled=True, mode="local_time")
    sydney = "+61491570006"
    subscriber = change(sydney, "opted_in", "sms_keyword", {"text": "JOIN"}).subscriber
    subscriber.timezone = "Australia/Sydney"
    subscriber.save(update_fields=["timezone"])
    # 06:00 on 2 June in Sydney: the content that reaches Sydney today.
    assert reply_of(twilio.inbound("today", sender=sydney)) == "Thought of 2027-06-02"
    # A subscriber without a timezone goes by the schedule's date.
    opted_in()
    assert reply_of(twilio.inbound("today")) == "Thought of 2027-06-01"


def test_today_without_content_says_so(twilio):
    opted_in()
    assert "no message for today" in reply_of(twilio.inbound("TODAY"))


def test_anything_else_gets_the_menu_and_is_recorded(twilio, settings):
    opted_in()
    assert reply_of(twilio.inbound("what is this?")) == settings.BOT_MENU_TEXT
    twilio.inbound("please stop")  # not the whole message: a conversation
    conversation = Conversation.objects.get(phone_number=PHONE)
    assert conversation.message_count == 2
    assert conversation.last_message == "please stop"
    assert conversation.last_response == settings.BOT_MENU_TEXT
    assert conversation.conversation_state == "menu"
    assert Subscriber.objects.get().consent_status == "opted_in"  # a conversation, not consent
    reply = Message.objects.filter(kind="reply").first()
    assert reply.in_reply_to.body == "please stop"


def test_a_number_that_never_opted_in_is_recorded_but_not_answered(twilio):
    assert reply_of(twilio.inbound("what is this?")) == ""
    assert Conversation.objects.get().last_message == "what is this?"
    assert Message.objects.get().direction == "inbound"
    assert not Subscriber.objects.exists()


def echo_handler(message: BotInput) -> BotReply:
    seen = message.context.get("seen", 0) + 1
    return BotReply(f"#{seen} {message.text[::-1]}", state="echo", context={"seen": seen})


def broken_handler(message: BotInput) -> BotReply:
    raise RuntimeError("bot bug")


def test_the_bot_handler_is_pluggable_and_keeps_context(twilio, settings):
    opted_in()
    settings.BOT_HANDLER = f"{__name__}.echo_handler"
    assert reply_of(twilio.inbound("abc")) == "#1 cba"
    assert reply_of(twilio.inbound("xyz")) == "#2 zyx"
    conversation = Conversation.objects.get()
    assert conversation.user_context == {"seen": 2}
    assert conversation.conversation_state == "echo"


def test_a_failing_bot_handler_still_answers_with_the_menu(twilio, settings, caplog):
    opted_in()
    settings.BOT_HANDLER = f"{__name__}.broken_handler"
    assert reply_of(twilio.inbound("hello")) == settings.BOT_MENU_TEXT
    assert Message.objects.filter(direction="inbound").count() == 1
    assert "bot handler" in caplog.text


def test_an_opted_out_number_is_recorded_but_not_answered(twilio):
    change(PHONE, "opted_out", "sms_keyword", {"text": "STOP"})
    assert reply_of(twilio.inbound("hello?")) == ""
    assert Conversation.objects.get().last_message == "hello?"
    assert not Message.objects.filter(direction="outbound").exists()


def test_broker_down_the_inbound_is_still_stored_and_answered(twilio, broker_down, settings):
    started = timezone.now()
    assert reply_of(twilio.inbound("START")) == settings.KEYWORD_REPLY_START
    assert Message.objects.filter(direction="inbound", created_at__gte=started).count() == 1


def test_an_invalid_sender_is_a_400_with_a_reason(twilio):
    response = twilio.inbound("hi", sender="not a number")
    assert response.status_code == 400 and b"sender" in response.content
    assert not Message.objects.exists()


def test_auth_token_never_reaches_the_log(twilio, caplog):
    caplog.set_level(logging.DEBUG)
    twilio.inbound("HELP")
    twilio.post("/webhooks/twilio/inbound/", {"From": PHONE}, signature="bad")
    assert AUTH_TOKEN not in caplog.text
