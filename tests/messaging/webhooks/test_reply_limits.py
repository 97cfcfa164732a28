"""Replies that cost money have limits: through signed webhooks and the real send path.

A Twilio reply goes back in the TwiML response, so what the response holds is what
Twilio sends (and bills). An SNS reply is queued and sent by the send task, here to
a recording provider in SNS's place.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from messaging import task_names
from messaging.billing import budget
from messaging.inbound import keywords, reply_limits
from messaging.models import BILLED_STATUSES, Message, ReplyMute
from messaging.reports import alerts
from messaging.tasks import release_confirmations, send_message
from smsbot.celery import app
from subscribers.consent import change
from tests.messaging.pipeline import recording_provider
from tests.messaging.webhooks.conftest import post_sns
from tests.messaging.webhooks.test_twilio_inbound import opted_in, reply_of

PHONE = "+13125550123"
# The portal answers keywords here (TWILIO_OPT_OUT_HANDLING=portal); Twilio answering
# them itself is tested in test_twilio_opt_out_handling.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("portal_answers")]


def paid() -> list[Message]:
    """Outbound messages that went, or may have gone, to a provider: the ones billed."""
    return list(Message.objects.filter(direction="outbound", status__in=BILLED_STATUSES))


def answers(twilio, text: str, times: int, sender: str = PHONE) -> list[str]:
    return [reply_of(twilio.inbound(text, sender=sender)) for _ in range(times)]


@pytest.fixture
def no_loop_breaker(settings):
    settings.BOT_LOOP_REPEATS = 0
    settings.BOT_LOOP_BURST_MESSAGES = 0


@pytest.fixture
def sns_sends(monkeypatch, settings, django_capture_on_commit_callbacks):
    """Post SNS notifications; the replies they queue go through the send task to a
    recording provider standing in for SNS. Returns post(envelope) and the sent ids."""
    from messaging.providers.registry import MODULES

    monkeypatch.setitem(MODULES, "sns", recording_provider.__name__)
    recording_provider.reset()
    queued: list[int] = []
    monkeypatch.setattr(
        app,
        "send_task",
        lambda name, args, **kwargs: queued.extend(args) if name == task_names.SEND_MESSAGE else 0,
    )

    def post(client, envelope) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            status = post_sns(client, envelope).status_code
        while queued:
            send_message.apply(args=[queued.pop(0)])
        return status

    yield post, recording_provider.SENT
    recording_provider.reset()


# --- who is answered ---------------------------------------------------------------


def test_sixty_hi_from_a_number_that_never_opted_in_cost_nothing(twilio):
    assert answers(twilio, "hi", 60) == [""] * 60
    assert Message.objects.filter(direction="inbound").count() == 60  # all recorded
    assert not Message.objects.filter(direction="outbound").exists()
    assert budget.spent_in_database() == 0


def test_sixty_hi_over_sns_from_an_unknown_number_reach_no_provider(client, sns_signer, sns_sends):
    post, sent = sns_sends
    for _ in range(60):
        assert post(client, sns_signer.inbound_sms("hi")) == 200
    assert sent == [] and paid() == []
    assert Message.objects.filter(direction="inbound").count() == 60


def test_an_opted_out_number_is_not_answered_but_keywords_still_work(twilio, settings):
    change(PHONE, "opted_out", "sms_keyword", {"text": "STOP"})
    assert reply_of(twilio.inbound("hello?")) == ""
    assert reply_of(twilio.inbound("HELP")) == keywords.help_text()
    assert reply_of(twilio.inbound("START")) == settings.KEYWORD_REPLY_START
    assert reply_of(twilio.inbound("hello?")) == settings.BOT_MENU_TEXT


def test_a_pending_sign_up_is_answered_only_once_its_confirmation_went(
    twilio, settings, django_capture_on_commit_callbacks
):
    change(PHONE, "pending", "web_form", {"form": "signup"})  # confirmation not queued
    assert reply_of(twilio.inbound("what is this?")) == ""
    Message.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        change("+13125550124", "pending", "web_form", {"form": "signup"})
    assert reply_of(twilio.inbound("what is this?", sender="+13125550124")) == (
        settings.BOT_MENU_TEXT
    )


def test_a_pending_sign_up_whose_confirmation_the_cap_holds_is_not_answered_yet(
    client, twilio, settings, clock, django_capture_on_commit_callbacks
):
    """A flood of form sign-ups costs nothing more by texting the bot: a number whose
    confirmation waits for the hourly cap has been sent nothing, so it is not known."""
    settings.OPTIN_CONFIRMATIONS_PER_HOUR = 1
    start = dt.datetime.now(dt.UTC)
    clock.set(start)
    sent, held = "+13125550124", "+13125550125"
    for phone in (sent, held):
        with django_capture_on_commit_callbacks(execute=True):
            form = {"phone": phone, "channel": "sms", "consent": "on"}
            assert client.post(reverse("subscribers:optin"), form).status_code == 302
    assert Message.objects.get(kind="confirmation", phone=held).status == "held"
    assert reply_of(twilio.inbound("what is this?", sender=held)) == ""
    # Recorded, and nothing made for it but the confirmation that waits.
    assert Message.objects.filter(phone=held, direction="inbound").count() == 1
    assert list(Message.objects.filter(phone=held, direction="outbound").values_list("kind")) == [
        ("confirmation",)
    ]
    assert reply_of(twilio.inbound("what is this?", sender=sent)) == settings.BOT_MENU_TEXT
    # Once the cap lets it go, the person may be answering it.
    clock.set(start + dt.timedelta(minutes=61))
    with django_capture_on_commit_callbacks(execute=True):
        assert release_confirmations.apply().get() == 1
    assert reply_of(twilio.inbound("what is it?", sender=held)) == settings.BOT_MENU_TEXT


# --- the per-number limit ----------------------------------------------------------


def test_sixty_from_a_subscriber_cost_at_most_the_per_number_limit(twilio, settings):
    opted_in()
    got = answers(twilio, "hi", 60)
    assert sum(bool(a) for a in got) <= settings.BOT_REPLIES_PER_NUMBER_PER_HOUR
    assert len(paid()) <= settings.BOT_REPLIES_PER_NUMBER_PER_HOUR


def test_the_per_number_limit_alone_stops_at_its_setting(twilio, settings, no_loop_breaker):
    settings.BOT_REPLIES_PER_NUMBER_PER_HOUR = 7
    opted_in()
    got = [reply_of(twilio.inbound(f"question {n}")) for n in range(20)]
    assert got == [settings.BOT_MENU_TEXT] * 7 + [""] * 13
    assert len(paid()) == 7
    # Another number has its own count; the next clock hour starts a new one.
    opted_in("+13125550124")
    assert reply_of(twilio.inbound("hello", sender="+13125550124")) == settings.BOT_MENU_TEXT


def test_the_per_number_limit_holds_on_the_sns_path(
    client, sns_signer, sns_sends, settings, no_loop_breaker
):
    post, sent = sns_sends
    settings.BOT_REPLIES_PER_NUMBER_PER_HOUR = 3
    opted_in()
    for n in range(10):
        post(client, sns_signer.inbound_sms(f"question {n}"))
    assert len(sent) == 3 and len(paid()) == 3


def test_a_new_hour_starts_a_new_count(twilio, settings, no_loop_breaker, clock):
    settings.BOT_REPLIES_PER_NUMBER_PER_HOUR = 2
    clock.set(dt.datetime(2027, 6, 1, 15, 10, tzinfo=dt.UTC))
    opted_in()
    assert [bool(reply_of(twilio.inbound(f"q{n}"))) for n in range(3)] == [True, True, False]
    clock.set(dt.datetime(2027, 6, 1, 16, 0, 5, tzinfo=dt.UTC))
    assert reply_of(twilio.inbound("q3")) == settings.BOT_MENU_TEXT


# --- the spend limit ---------------------------------------------------------------


@pytest.fixture
def over_budget(settings):
    settings.SMS_MONTHLY_SPEND_LIMIT_USD = Decimal("0.01")
    Message.objects.create(
        direction="outbound", kind="broadcast", provider="twilio", phone="+13125550199",
        body="spent", status="sent", price_estimated=Decimal("0.01"),
    )  # fmt: skip
    assert budget.status().exhausted


def test_past_the_spend_limit_a_conversation_reply_is_withheld(twilio, over_budget):
    opted_in()
    assert answers(twilio, "hello", 3) == ["", "", ""]
    withheld = Message.objects.filter(kind="reply")
    assert {(m.status, m.error_message) for m in withheld} == {("skipped", budget.OVER_LIMIT)}
    assert budget.spent_in_database() == Decimal("0.01")


def test_past_the_spend_limit_stop_and_help_are_answered_once_a_day_each(
    twilio, settings, over_budget, clock
):
    clock.set(dt.datetime(2027, 6, 1, 15, 0, tzinfo=dt.UTC))
    opted_in()
    help_answers = answers(twilio, "HELP", 3)
    assert help_answers[0] and help_answers[1:] == ["", ""]
    assert answers(twilio, "STOP", 2) == [settings.KEYWORD_REPLY_STOP, ""]
    assert [m.kind for m in paid() if m.phone == PHONE] == ["compliance", "compliance"]
    # START is not an answer the law requires: consent changes, the answer waits.
    assert reply_of(twilio.inbound("START")) == ""
    # A day later the law's answers go out once more.
    clock.set(dt.datetime(2027, 6, 2, 15, 1, tzinfo=dt.UTC))
    assert reply_of(twilio.inbound("HELP")) == help_answers[0]


def test_past_the_spend_limit_the_sns_reply_is_skipped_at_the_send_and_stop_goes(
    client, sns_signer, sns_sends, settings, over_budget
):
    post, sent = sns_sends
    opted_in()
    post(client, sns_signer.inbound_sms("hello"))
    reply = Message.objects.get(kind="reply")
    assert (reply.status, reply.error_message) == ("skipped", budget.OVER_LIMIT)
    post(client, sns_signer.inbound_sms("STOP"))
    post(client, sns_signer.inbound_sms("STOP"))
    stop = Message.objects.get(kind="compliance")
    assert sent == [stop.pk] and stop.status == "sent"


# --- the loop breaker --------------------------------------------------------------


def test_the_same_text_repeated_mutes_the_number_and_the_admin_home_says_so(
    twilio, settings, admin_client
):
    subscriber = opted_in()
    got = answers(twilio, "hi", settings.BOT_LOOP_REPEATS + 3)
    assert got == [settings.BOT_MENU_TEXT] * (settings.BOT_LOOP_REPEATS - 1) + [""] * 4
    mute = ReplyMute.objects.get()
    assert mute.phone == PHONE and "same text" in mute.reason
    assert reply_of(twilio.inbound("something else")) == ""  # muted, whatever it says
    assert reply_of(twilio.inbound("HELP"))  # the law's answer still goes, once

    (banner,) = [a for a in alerts.active() if "stopped answering" in a.text]
    page_url = reverse("admin:subscribers_subscriber_change", args=[subscriber.pk])
    assert banner.links == (("+1******0123 (the same text 5 times in a row)", page_url),)
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "+1******0123" in page and f'href="{page_url}"' in page
    assert PHONE not in page


def test_messages_faster_than_a_person_types_trip_the_breaker(twilio, settings):
    opted_in()
    texts = [f"line {n}" for n in range(settings.BOT_LOOP_BURST_MESSAGES + 2)]
    got = [reply_of(twilio.inbound(t)) for t in texts]
    assert got[: settings.BOT_LOOP_BURST_MESSAGES] == [settings.BOT_MENU_TEXT] * (
        settings.BOT_LOOP_BURST_MESSAGES
    )
    assert got[settings.BOT_LOOP_BURST_MESSAGES :] == ["", ""]
    assert "messages within" in ReplyMute.objects.get().reason


def test_the_mute_ends_after_its_minutes_and_the_banner_goes(twilio, settings, clock):
    clock.set(dt.datetime(2027, 6, 1, 15, 0, tzinfo=dt.UTC))
    opted_in()
    answers(twilio, "ping", settings.BOT_LOOP_REPEATS)
    assert reply_limits.muted(PHONE, clock.now())
    clock.set(dt.datetime(2027, 6, 1, 16, 1, tzinfo=dt.UTC))
    assert not [a for a in alerts.active() if "stopped answering" in a.text]
    assert reply_of(twilio.inbound("hello again")) == settings.BOT_MENU_TEXT
    assert ReplyMute.objects.count() == 1  # the trip stays on record


def test_an_unknown_number_in_a_loop_is_listed_with_a_link_to_its_messages(twilio, settings):
    answers(twilio, "hi", settings.BOT_LOOP_REPEATS, sender="+13125550177")
    (banner,) = [a for a in alerts.active() if "stopped answering" in a.text]
    ((text, url),) = banner.links
    assert text.startswith("+1******0177") and "q=%2B13125550177" in url
