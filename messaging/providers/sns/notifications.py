"""What a verified SNS message does: confirm a subscription, take an inbound SMS, or
apply an End User Messaging SMS delivery event (aws_sms.events).

SNS's own SMS delivery statuses never come this way: SNS writes them to CloudWatch
Logs, which delivery_logs.py reads.

SNS retries a delivery it thinks failed, and anyone who saw a signed message can
post it again while it is young enough to pass verification. Either way it acts
once: an inbound SMS is recorded once by its inboundMessageId (the inbound
pipeline's unique provider id), and a subscription is confirmed once per topic
and token, remembered for as long as verification accepts the message.
"""

import hashlib
import json
import logging
from typing import Any

from django.core.cache import cache
from django.db import transaction

from messaging import task_names
from messaging.inbound import pipeline as inbound
from messaging.models import Provider
from messaging.providers.aws_sms import events as sms_events
from messaging.providers.sns.verification import CLOCK_SKEW, MAX_AGE, topic_kind
from smsbot import outbox
from smsbot.aws_names import INBOUND_TOPIC, SMS_EVENTS_TOPIC
from smsbot.storable import field_text

log = logging.getLogger(__name__)


def handle(envelope: dict[str, Any]) -> None:
    """Act on a verified envelope; raises InvalidInbound for a payload that makes no sense."""
    kind = envelope.get("Type")
    if kind == "SubscriptionConfirmation":
        _queue_confirmation(envelope["TopicArn"], envelope["Token"])
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
    elif kind == "Notification" and topic_kind(envelope["TopicArn"]) == SMS_EVENTS_TOPIC:
        # The event is recorded once by its message id and type (the report's dedupe key).
        sms_events.receive(envelope["Message"])
    else:
        log.info("SNS %s for %s: nothing to do", kind, envelope.get("TopicArn"))


def _queue_confirmation(topic_arn: str, token: str) -> None:
    """Queue the confirmation unless this topic and token were queued already."""
    digest = hashlib.sha256(f"{topic_arn}\n{token}".encode("utf-8", "surrogatepass")).hexdigest()
    key = f"sns:confirmation:{digest}"
    # Atomic in Redis (SET NX); after the window, verification refuses the message.
    if not cache.add(key, True, timeout=int((MAX_AGE + CLOCK_SKEW).total_seconds())):
        log.info("SNS subscription to %s: confirmation already queued", topic_arn)
        return
    try:
        # Confirming calls AWS: a task does it, never the request.
        with transaction.atomic():
            outbox.enqueue(task_names.CONFIRM_SNS_SUBSCRIPTION, topic_arn, token)
    except BaseException:
        cache.delete(key)  # not queued: SNS's retry must be able to queue it
        raise
    log.info("SNS subscription to %s: confirmation queued", topic_arn)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise inbound.InvalidInbound("Message is not JSON") from exc
    if not isinstance(value, dict):
        raise inbound.InvalidInbound("Message is not a JSON object")
    return value
