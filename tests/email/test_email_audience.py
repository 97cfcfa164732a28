"""The audience, the preview's split and each message's channel read subscribers.sendable's
rule on the address the message goes by: the number, or the e-mail address (its own
channel, or the fallback for a number that stopped working)."""

from datetime import date

import pytest
from django.utils import timezone

from messaging.broadcasts import audience
from messaging.models import Broadcast
from messaging.skips import SkipReason
from subscribers.models import Subscriber

pytestmark = pytest.mark.django_db


def person(i: int, channel: str = "sms", **fields: object) -> Subscriber:
    fields.setdefault("consent_status", "opted_in")
    return Subscriber.objects.create(
        phone=f"+13125550{100 + i}", channel=channel, timezone="America/Chicago", **fields
    )


CONFIRMED = {"email_status": "opted_in"}


@pytest.fixture
def people(settings) -> dict[str, Subscriber]:
    settings.EMAIL_FROM = "daily@example.com"
    settings.FALLBACK_CHANNEL = "email"
    settings.QUIET_HOURS = ""
    return {
        "sms": person(1),
        "email": person(2, "email", email="a@example.com", **CONFIRMED),
        "lost_phone": person(3, undeliverable=True, email="b@example.com", **CONFIRMED),
        "lost_no_address": person(4, undeliverable=True),
        "stopped": person(
            5, "email", consent_status="opted_out", email="c@example.com", **CONFIRMED
        ),
        "unsubscribed": person(6, "email", email="d@example.com", email_status="opted_out"),
        "unconfirmed": person(7, "email", email="e@example.com", email_status="pending"),
        "bounced": person(8, "email", email="f@example.com", email_undeliverable=True, **CONFIRMED),
    }


def test_the_audience_takes_each_subscriber_by_the_address_the_message_goes_by(people):
    taken = set(audience.audience().values_list("phone", flat=True))
    assert taken == {people[k].phone for k in ("sms", "email", "lost_phone")}
    routes = {k: audience.daily_channel(people[k]) for k in ("sms", "email", "lost_phone")}
    assert routes == {
        "sms": ("sms", False),
        "email": ("email", False),
        "lost_phone": ("email", True),
    }
    broadcast = Broadcast.objects.create(date=date(2027, 6, 1), text="Word")
    message = audience.build_message(broadcast, people["lost_phone"])
    assert (message.channel, message.provider, message.fallback) == ("email", "ses", True)


def test_the_preview_splits_by_the_same_rule(people):
    split = audience.skip_split(now=timezone.now())
    assert split.sendable == audience.audience().count()
    assert split.by_channel == {"email": 2, "sms": 1}
    assert split.left_out() == {
        SkipReason.OPTED_OUT.value: 2,  # the number's STOP, the address's unsubscribe
        SkipReason.PENDING.value: 1,
        SkipReason.UNDELIVERABLE.value: 2,  # the bounced address, the lost number without one
    }


def test_without_a_sender_nobody_gets_email_and_the_fallback_is_off(people, settings):
    settings.EMAIL_FROM = ""
    assert set(audience.audience().values_list("phone", flat=True)) == {people["sms"].phone}
    split = audience.skip_split(now=timezone.now())
    assert (split.sendable, split.by_channel) == (1, {"sms": 1})
    assert split.left_out() == {SkipReason.UNDELIVERABLE.value: 2}
    assert audience.daily_channel(people["lost_phone"]) == ("sms", False)
