"""What a verified SNS message does: confirm a subscription, take an inbound SMS,
or apply a delivery status."""

import json
import logging
from typing import Any

from django.db import transaction

from messaging import task_names
from messaging.delivery import reports as delivery
from messaging.inbound import pipeline as inbound
from messaging.models import MessageStatus, Provider
from messaging.providers.sns.verification import topic_kind
from smsbot import outbox
from smsbot.aws_names import INBOUND_TOPIC
from smsbot.storable import clean_text

log = logging.getLogger(__name__)

_SNS_STATUSES = {"SUCCESS": MessageStatus.DELIVERED, "FAILURE": MessageStatus.FAILED}


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
    elif kind == "Notification":
        payload = _json_object(envelope["Message"])
        if topic_kind(envelope["TopicArn"]) == INBOUND_TOPIC:
            inbound.receive(
                inbound.Inbound(
                    provider=Provider.SNS,
                    message_id=_text(payload, "inboundMessageId"),
                    sender=_text(payload, "originationNumber"),
                    recipient=_text(payload, "destinationNumber"),
                    text=_text(payload, "messageBody"),
                )
            )
        else:
            delivery.apply(_delivery_report(envelope, payload))
    else:
        log.info("SNS %s for %s: nothing to do", kind, envelope.get("TopicArn"))


def _delivery_report(envelope: dict[str, Any], payload: dict[str, Any]) -> delivery.Report:
    """An SNS SMS delivery status log: notification.messageId is the publish MessageId."""
    notification = payload.get("notification")
    details = payload.get("delivery")
    notification = notification if isinstance(notification, dict) else {}
    details = details if isinstance(details, dict) else {}
    message_id = _text(notification, "messageId")
    if not message_id or len(message_id) > inbound.MAX_ID_LENGTH:
        raise inbound.InvalidInbound("delivery status without notification.messageId")
    word = _text(payload, "status").upper()
    status = _SNS_STATUSES.get(word, word.lower())
    price = details.get("priceInUSD")
    return delivery.Report(
        provider=Provider.SNS,
        provider_message_id=message_id,
        status=status,
        dedupe_key=f"sns:{_text(envelope, 'MessageId')}",
        error_message=_text(details, "providerResponse") if status == MessageStatus.FAILED else "",
        price=None if price is None else delivery.parse_price(price),
        price_unit="USD" if price is not None else "",
        payload=payload,
    )


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise inbound.InvalidInbound("Message is not JSON") from exc
    if not isinstance(value, dict):
        raise inbound.InvalidInbound("Message is not a JSON object")
    return value


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None or isinstance(value, dict | list) else clean_text(str(value))
