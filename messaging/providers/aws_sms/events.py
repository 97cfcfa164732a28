"""End User Messaging SMS delivery events, as the configuration set publishes them to SNS.

The record format is AWS's ("Example SMS event data", AWS End User Messaging SMS
User Guide): eventType (TEXT_DELIVERED, TEXT_SUCCESSFUL, TEXT_BLOCKED, ...),
messageId (SendTextMessage's MessageId), messageStatus, messageStatusDescription,
totalMessageParts, totalMessagePrice and totalCarrierFee (USD), isoCountryCode
and the send's Context (the portal's message id). Each event becomes a delivery
report on the path every report takes (messaging.delivery.reports).
"""

import json
from decimal import Decimal
from typing import Any

from messaging.delivery import reports as delivery
from messaging.inbound import pipeline as inbound
from messaging.models import MessageStatus, Provider
from smsbot.storable import field_text

# eventType -> (our status, our error code); AWS may add types: those are kept, not applied.
EVENTS: dict[str, tuple[str, str]] = {
    "TEXT_PENDING": (MessageStatus.SENT, ""),
    "TEXT_QUEUED": (MessageStatus.SENT, ""),
    "TEXT_SENT": (MessageStatus.SENT, ""),
    # Accepted by the carrier, which reports no handset delivery for every route.
    "TEXT_SUCCESSFUL": (MessageStatus.SENT, ""),
    "TEXT_DELIVERED": (MessageStatus.DELIVERED, ""),
    "TEXT_BLOCKED": (MessageStatus.UNDELIVERED, "eum:Blocked"),
    "TEXT_CARRIER_BLOCKED": (MessageStatus.UNDELIVERED, "eum:CarrierBlocked"),
    "TEXT_SPAM": (MessageStatus.UNDELIVERED, "eum:Spam"),
    "TEXT_CARRIER_UNREACHABLE": (MessageStatus.UNDELIVERED, "eum:CarrierDown"),
    "TEXT_UNREACHABLE": (MessageStatus.UNDELIVERED, "eum:Unreachable"),
    "TEXT_INVALID": (MessageStatus.UNDELIVERED, "eum:Invalid"),
    "TEXT_INVALID_MESSAGE": (MessageStatus.UNDELIVERED, "eum:InvalidBody"),
    "TEXT_TTL_EXPIRED": (MessageStatus.UNDELIVERED, "eum:TtlExpired"),
    "TEXT_PROTECT_BLOCKED": (MessageStatus.UNDELIVERED, "eum:ProtectBlocked"),
    # No final event from the carrier within 72 hours: AWS does not know either.
    "TEXT_UNKNOWN": (MessageStatus.SENT, "eum:Unknown"),
}
# The events the configuration set publishes (MatchingEventTypes).
MATCHING_EVENT_TYPES = sorted(EVENTS)
MAX_PARTS = 255


def parse(text: str) -> delivery.Report:
    """The delivery report in one event record; raises InvalidInbound when it is not one."""
    try:
        record = json.loads(text)
    except (ValueError, RecursionError, TypeError) as exc:
        raise inbound.InvalidInbound("event is not JSON") from exc
    if not isinstance(record, dict):
        raise inbound.InvalidInbound("event is not a JSON object")
    event_type = field_text(record, "eventType").upper()
    message_id = field_text(record, "messageId")
    if event_type not in EVENTS:
        raise inbound.InvalidInbound(f"not an SMS event type: {event_type[:40]!r}")
    if not message_id or len(message_id) > inbound.MAX_ID_LENGTH:
        raise inbound.InvalidInbound("event without a valid messageId")
    status, code = EVENTS[event_type]
    price = _price(record)
    return delivery.Report(
        provider=Provider.AWS_SMS,
        provider_message_id=message_id,
        status=status,
        dedupe_key=f"aws-sms:{message_id}:{event_type}",
        error_code=code,
        error_message=field_text(record, "messageStatusDescription") if code else "",
        price=price,
        price_unit="USD" if price is not None else "",
        payload=record,
        message_id=_our_id(record.get("context")),
        parts=_parts(record.get("totalMessageParts")),
    )


def _price(record: dict[str, Any]) -> Decimal | None:
    """totalMessagePrice plus totalCarrierFee (USD); None when AWS reports no price."""
    if record.get("totalMessagePrice") is None:
        return None
    price = delivery.parse_price(record["totalMessagePrice"])
    fee = delivery.parse_price(record.get("totalCarrierFee") or 0)
    if price is None or fee is None:
        return None
    return delivery.parse_price(price + fee)


def _parts(raw: object) -> int | None:
    return (
        raw if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw <= MAX_PARTS else None
    )


def _our_id(context: object) -> int | None:
    """The portal's message id the send carried in Context, when it is one."""
    raw = context.get("message_id") if isinstance(context, dict) else None
    return int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 19 else None


def receive(text: str) -> None:
    """Apply one event record that arrived on the events topic."""
    delivery.apply(parse(text))
