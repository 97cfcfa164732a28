"""Records the message as sent and sends nothing: the development default."""

import logging
import uuid

from messaging.models import Message
from messaging.providers.base import Sent

log = logging.getLogger(__name__)


class ConsoleProvider:
    name = "console"

    def send(self, message: Message) -> Sent:
        provider_id = f"console-{uuid.uuid4().hex}"
        log.info("console provider: %s message to %s", message.channel, message.phone)
        request = {"to": message.phone, "channel": message.channel, "body": message.body}
        return Sent(provider_message_id=provider_id, request=request, response={"id": provider_id})


def provider() -> ConsoleProvider:
    return ConsoleProvider()
