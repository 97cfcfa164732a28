"""Fixtures for provider tests: the local Twilio-compatible server, messages to send."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from messaging.models import Direction, Message, MessageKind, MessageStatus
from messaging.providers import registry
from messaging.providers.base import ProviderError, Sent
from tests.fakes.twilio_server import FakeTwilio

SMS_FROM = "+13125550100"
WHATSAPP_FROM = "+13125550101"


def send(message: Message) -> Sent:
    """Send through the provider the message names, as dispatch does."""
    return registry.get(message.provider).send(message)


def refusal(message: Message) -> ProviderError:
    """The ProviderError that sending message raises."""
    with pytest.raises(ProviderError) as caught:
        send(message)
    return caught.value


@pytest.fixture
def twilio_server(settings: Any) -> Iterator[FakeTwilio]:
    """A running fake Twilio, with the Twilio settings pointing at it."""
    with FakeTwilio() as server:
        for name, value in server.settings().items():
            setattr(settings, name, value)
        settings.TWILIO_SMS_FROM = SMS_FROM
        settings.TWILIO_MESSAGING_SERVICE_SID = ""
        settings.TWILIO_WHATSAPP_NUMBER = WHATSAPP_FROM
        settings.TWILIO_TIMEOUT_SECONDS = 2.0
        yield server


@pytest.fixture
def outbound(db: None) -> Callable[..., Message]:
    """Make a saved outbound message (queued), as dispatch hands it to a provider."""

    def make(phone: str = "+13125550123", **fields: Any) -> Message:
        values = {
            "direction": Direction.OUTBOUND,
            "kind": MessageKind.BROADCAST,
            "channel": "sms",
            "provider": "twilio",
            "phone": phone,
            "body": "Good morning! Today's tip: drink water.",
            "status": MessageStatus.SENDING,
        } | fields
        return Message.objects.create(**values)

    return make
