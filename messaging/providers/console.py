"""Records the message as sent and sends nothing: the development default.

A demo should show what a real provider shows, so it also reports delivery a
few seconds later, as a provider's status callback would — most messages
delivered, a few undelivered — and the report takes the same path as
Twilio's and SNS's (messaging.delivery.reports.apply).
"""

import logging
import random
import uuid

from django.conf import settings
from kombu.exceptions import OperationalError

from messaging import task_names
from messaging.delivery.reports import Report, apply
from messaging.models import Message
from messaging.providers.base import Sent
from smsbot.celery import REPLIES_QUEUE, app

log = logging.getLogger(__name__)

NAME = "console"
# Failures a real handset gives that change nothing about the number itself
# (30003 unreachable handset, 30008 unknown carrier error), so a demo never
# opts anyone out or marks a number undeliverable.
SIMULATED_ERRORS = ("30003", "30008")


class ConsoleProvider:
    name = NAME

    def send(self, message: Message) -> Sent:
        provider_id = f"console-{uuid.uuid4().hex}"
        log.info("console provider: %s message to %s", message.channel, message.phone)
        request = {"to": message.phone, "channel": message.channel, "body": message.body}
        if settings.CONSOLE_DELIVERY_REPORTS:
            _report_later(provider_id)
        return Sent(provider_message_id=provider_id, request=request, response={"id": provider_id})


def _report_later(provider_id: str) -> None:
    try:
        app.send_task(
            task_names.CONSOLE_DELIVERY_REPORT,
            args=[provider_id],
            queue=REPLIES_QUEUE,
            countdown=settings.CONSOLE_DELIVERY_DELAY_SECONDS,
        )
    except OperationalError:
        # The message itself is "sent" all the same; only the simulation is lost.
        log.warning("console provider: broker unavailable, no delivery report simulated")


def simulated_report(provider_message_id: str, draw: float) -> Report:
    """The report for one message; draw (0 ≤ draw < 1) below the failure share fails it."""
    if draw * 100 < settings.CONSOLE_FAILURE_PERCENT:
        code = SIMULATED_ERRORS[int(draw * 1000) % len(SIMULATED_ERRORS)]
        status = "undelivered"
    else:
        code, status = "", "delivered"
    return Report(
        provider=NAME,
        provider_message_id=provider_message_id,
        status=status,
        dedupe_key=f"{NAME}:{provider_message_id}:{status}",
        error_code=code,
        payload={"MessageStatus": status, "ErrorCode": code, "simulated": True},
    )


def report_delivery(provider_message_id: str) -> None:
    """What the simulated status callback does: apply one report (the task runs this)."""
    apply(simulated_report(provider_message_id, random.random()))


def provider() -> ConsoleProvider:
    return ConsoleProvider()
