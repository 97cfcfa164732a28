"""What a verified SNS message does: confirm a subscription or take an inbound SMS.

SMS delivery statuses never come this way: SNS writes them to CloudWatch Logs,
which delivery_logs.py reads.
"""

import json
import logging
from typing import Any

from django.db import transaction

from messaging import task_names
from messaging.inbound import pipeline as inbound
from messaging.models import Provider
from messaging.providers.sns.verification import topic_kind
from smsbot import outbox
from smsbot.aws_names import INBOUND_TOPIC
from smsbot.storable import field_text

log = logging.getLogger(__name__)


def handle(envelope: dict[str, Any]) -> None:
    """Act on a verified envelope; raises InvalidInbound for a payload that makes no sense."""
    kind = envelope.get("Type")
    if kind == "SubscriptionConfirmation":
        # Confirming calls AWS: a task does it, never the request.
        with transaction.atomic():
            outbox.enqueue(
                task_names.CONFIRM_SNS_SUBSCRIPTION, envelope["TopicArn"], envelope["Token"]
            )
        log.info("SNS subscription to %s: confirmation queued", envelope["TopicArn"])
    elif kind == "Notification" and topic_kind(envelope["TopicArn"]) == INBOUND_TOPIC:
        payload = _json_object(envelope["Message"])
        inbound.receive(
            inbound.Inbound(
                provider=Provider.SNS,
                message_id=field_text(payload, "inboundMessageId"),
                sender=field_text(payload, "originationNumber"),
                recipient=field_text(payload, "destinationNumber"),
                text=field_text(payload, "messageBody"),
            )
        )
    else:
        log.info("SNS %s for %s: nothing to do", kind, envelope.get("TopicArn"))


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise inbound.InvalidInbound("Message is not JSON") from exc
    if not isinstance(value, dict):
        raise inbound.InvalidInbound("Message is not a JSON object")
    return value
