"""PAUSE, RESUME and TIME through signed Twilio webhooks: what they change, what they answer."""

import json
from datetime import UTC, datetime, time

import pytest
from django_celery_beat.models import PeriodicTask

from messaging.broadcasts.schedule import PERIODIC_TASK_NAME
from messaging.models import Message
from subscribers.consent import change
from subscribers.models import ConsentEvent, Subscriber, SubscriberEvent
from tests.messaging.webhooks.conftest import OUR_NUMBER, new_sid
from tests.messaging.webhooks.test_twilio_inbound import reply_of

PHONE = "+13125550123"  # America/Chicago
# The portal answers keywords here (TWILIO_OPT_OUT_HANDLING=portal); Twilio answering
# them itself is tested in test_twilio_opt_out_handling.py.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("portal_answers")]
# Monday 10 May 2027, 12:00 in Chicago (CDT, UTC-5): after that day's 10:00 message.
NOON = datetime(2027, 5, 10, 17, 0, tzinfo=UTC)


@pytest.fixture
def subscriber(clock, settings):
    settings.QUIET_HOURS = "21:00-08:00"
    clock.set(NOON)
    return change(PHONE, "opted_in", "sms_keyword", {"text": "START"}).subscriber


def local_time_mode() -> None:
    PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME).update(
        kwargs=json.dumps({"mode": "local_time"})
    )


def test_pause_3_skips_the_next_three_messages_and_names_the_restart_date(twilio, subscriber):
    sid = new_sid()
    answer = reply_of(twilio.inbound("PAUSE 3", sid=sid))
    # Next message Tuesday 11 May; three skipped (Tue, Wed, Thu): back on Friday 14 May.
    assert answer == (
        "Paused. Your daily messages start again on Friday 14 May. Reply RESUME to restart sooner."
    )
    subscriber.refresh_from_db()
    assert subscriber.consent_status == "opted_in"  # not a consent change
    assert subscriber.paused_until == datetime(2027, 5, 14, 5, 0, tzinfo=UTC)  # midnight CDT
    event = subscriber.events.get()
    assert (event.kind, event.before, event.after, event.source) == (
        "paused", "", "2027-05-14", "sms_keyword",
    )  # fmt: skip
    assert event.evidence == {
        "text": "PAUSE 3", "message_id": sid, "to": OUR_NUMBER, "provider": "twilio", "days": 3,
    }  # fmt: skip
    assert ConsentEvent.objects.count() == 1  # only the opt-in
    inbound = Message.objects.get(provider_message_id=sid)
    assert inbound.replies.get().kind == "reply"


def test_a_bare_pause_lasts_pause_default_days(twilio, subscriber, settings):
    settings.PAUSE_DEFAULT_DAYS = 7
    assert "start again on Tuesday 18 May" in reply_of(twilio.inbound("pause."))


def test_pause_before_the_days_message_counts_that_day(twilio, subscriber, clock):
    clock.set(datetime(2027, 5, 10, 13, 0, tzinfo=UTC))  # 08:00 Chicago, before 10:00
    assert "start again on Thursday 13 May" in reply_of(twilio.inbound("PAUSE 3"))


@pytest.mark.parametrize("text", ["PAUSE 0", "PAUSE 91", "PAUSE 400", "pause please"])
def test_pause_out_of_range_gets_the_help_text_and_changes_nothing(twilio, subscriber, text):
    answer = reply_of(twilio.inbound(text))
    assert "PAUSE 3 to pause 3 days" in answer and "STOP to cancel" in answer
    subscriber.refresh_from_db()
    assert subscriber.paused_until is None and not SubscriberEvent.objects.exists()


def test_resume_ends_a_pause_and_names_the_next_message(twilio, subscriber):
    twilio.inbound("PAUSE 10")
    assert reply_of(twilio.inbound("Resume!")) == (
        "Welcome back! Your daily messages start again on Tuesday 11 May."
    )
    subscriber.refresh_from_db()
    assert subscriber.paused_until is None
    assert list(subscriber.events.order_by("id").values_list("kind", "after")) == [
        ("paused", "2027-05-21"),
        ("resumed", ""),
    ]


def test_an_opt_in_keyword_ends_a_pause_too(twilio, subscriber, settings):
    twilio.inbound("PAUSE 5")
    assert reply_of(twilio.inbound("START")) == settings.KEYWORD_REPLY_START
    subscriber.refresh_from_db()
    assert subscriber.paused_until is None
    assert subscriber.events.order_by("-id").first().kind == "resumed"


def test_stop_during_a_pause_opts_out_as_usual(twilio, subscriber, settings):
    twilio.inbound("PAUSE 5")
    assert reply_of(twilio.inbound("STOP")) == settings.KEYWORD_REPLY_STOP
    subscriber.refresh_from_db()
    assert subscriber.consent_status == "opted_out"
    assert subscriber.consent_events.order_by("-id").first().to_status == "opted_out"
    # Opted out, PAUSE and RESUME change nothing any more, and get no (paid) answer.
    assert reply_of(twilio.inbound("RESUME")) == ""
    subscriber.refresh_from_db()
    assert subscriber.paused_until is not None


@pytest.mark.parametrize(
    ("text", "wanted", "spoken"),
    [
        ("TIME 19:30", time(19, 30), "7:30 PM"),
        ("time 7:30pm", time(19, 30), "7:30 PM"),
        ("Time 7:30 p.m.", time(19, 30), "7:30 PM"),
        ("TIME 7", time(7, 0), "7:00 AM"),
    ],
)
def test_time_sets_the_preferred_time_and_answers_in_local_time(
    twilio, subscriber, settings, text, wanted, spoken
):
    settings.QUIET_HOURS = "21:00-07:00"
    local_time_mode()
    assert reply_of(twilio.inbound(text)) == (
        f"Done: your daily message will come at {spoken} your time (America/Chicago)."
    )
    subscriber.refresh_from_db()
    assert subscriber.preferred_time == wanted
    event = subscriber.events.get()
    assert (event.kind, event.after) == ("preferred_time", f"{wanted:%H:%M}")


def test_time_in_same_moment_mode_says_when_everyone_gets_it(twilio, subscriber):
    assert reply_of(twilio.inbound("TIME 19:30")) == (
        "Saved: 7:30 PM your time (America/Chicago). For now everyone's daily message goes "
        "out at 10:00 AM America/Chicago."
    )


def test_a_time_inside_quiet_hours_is_refused_with_the_allowed_window(twilio, subscriber):
    assert reply_of(twilio.inbound("TIME 11pm")) == (
        "Messages can't come between 9:00 PM and 8:00 AM. Choose a time from 8:00 AM to "
        "8:59 PM, e.g. TIME 7pm."
    )
    subscriber.refresh_from_db()
    assert subscriber.preferred_time is None and not SubscriberEvent.objects.exists()


def test_a_sentence_starting_with_a_keyword_is_a_conversation(twilio, subscriber, settings):
    assert reply_of(twilio.inbound("time is short")) == settings.BOT_MENU_TEXT
    assert not SubscriberEvent.objects.exists()


def test_keywords_are_configurable_and_the_help_names_them(twilio, subscriber, settings):
    settings.PAUSE_KEYWORDS = ["HOLD", "BREAK"]
    settings.RESUME_KEYWORDS = ["BACK"]
    settings.TIME_KEYWORD = "HOUR"
    help_text = reply_of(twilio.inbound("HELP"))
    assert "HOLD 3 to pause 3 days, BACK to restart, HOUR 7pm to pick your time" in help_text
    assert "start again" in reply_of(twilio.inbound("break 2"))
    assert "Welcome back" in reply_of(twilio.inbound("Back"))
    assert "7:00 PM" in reply_of(twilio.inbound("hour 7pm"))
    assert reply_of(twilio.inbound("PAUSE")) == settings.BOT_MENU_TEXT  # no longer a keyword


def test_the_help_text_fits_one_sms(twilio, subscriber):
    from messaging.billing import segments

    info = segments.count(reply_of(twilio.inbound("HELP")))
    assert (info.segments, info.encoding) == (1, "GSM-7")


def test_a_number_that_is_not_subscribed_gets_no_answer(twilio, clock):
    clock.set(NOON)
    assert reply_of(twilio.inbound("PAUSE 3", sender="+13125550124")) == ""
    assert not Subscriber.objects.filter(phone="+13125550124").exists()


def test_a_pending_number_that_was_sent_a_confirmation_gets_the_help_text(
    twilio, clock, django_capture_on_commit_callbacks
):
    clock.set(NOON)
    with django_capture_on_commit_callbacks(execute=True):  # the confirmation is queued
        change("+13125550124", "pending", "web_form", {"form": "signup"})
    assert Message.objects.get(phone="+13125550124").kind == "confirmation"
    assert "START to join" in reply_of(twilio.inbound("PAUSE 3", sender="+13125550124"))


def test_a_retried_pause_changes_nothing_twice(twilio, subscriber):
    sid = new_sid()
    first = twilio.inbound("PAUSE 3", sid=sid)
    second = twilio.inbound("PAUSE 3", sid=sid)
    assert first.content == second.content
    assert SubscriberEvent.objects.count() == 1
