"""Broadcast messages expire in Twilio's queue (ValidityPeriod); other messages do not."""

import pytest

from messaging.models import MessageKind
from tests.messaging.providers.conftest import send


def validity_of(twilio_server, outbound, **fields) -> str | None:
    send(outbound(**fields))
    return twilio_server.requests[-1].form.get("ValidityPeriod")


def test_a_broadcast_message_carries_the_validity_period(twilio_server, outbound, settings):
    assert validity_of(twilio_server, outbound, kind=MessageKind.BROADCAST) == "14400"
    settings.TWILIO_BROADCAST_VALIDITY_HOURS = 1.5
    assert validity_of(twilio_server, outbound, kind=MessageKind.BROADCAST) == "5400"


def test_a_whatsapp_broadcast_carries_it_too(twilio_server, outbound):
    fields = {"kind": MessageKind.BROADCAST, "channel": "whatsapp", "content_sid": "HX" + "0" * 32}
    assert validity_of(twilio_server, outbound, **fields) == "14400"


@pytest.mark.parametrize(
    "kind",
    [MessageKind.REPLY, MessageKind.COMPLIANCE, MessageKind.CONFIRMATION, MessageKind.TEST],
)
def test_replies_and_confirmations_keep_twilios_default(twilio_server, outbound, kind):
    assert validity_of(twilio_server, outbound, kind=kind) is None


@pytest.mark.parametrize(("hours", "seconds"), [(48, "36000"), (10, "36000"), (0.0001, "1")])
def test_the_setting_is_capped_to_twilios_range(twilio_server, outbound, settings, hours, seconds):
    settings.TWILIO_BROADCAST_VALIDITY_HOURS = hours
    assert validity_of(twilio_server, outbound, kind=MessageKind.BROADCAST) == seconds
