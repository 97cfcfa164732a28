"""Delivery reports (Twilio status callbacks, SNS delivery status) applied to messages.

Every report is kept once as a DeliveryEvent; the message's status only moves
forward (STATUS_RANK), so a late "sent" never overwrites "delivered".
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from messaging.delivery import actions, error_codes
from messaging.models import STATUS_RANK, DeliveryEvent, Message, MessageStatus
from smsbot.redaction import redact_data
from smsbot.storable import clean_data

log = logging.getLogger(__name__)

# Twilio's status words that are not ours.
_ALIASES = {
    "accepted": MessageStatus.QUEUED,
    "scheduled": MessageStatus.QUEUED,
    "canceled": MessageStatus.FAILED,
}
# DeliveryEvent.price: max_digits=10, decimal_places=5.
_PRICE_LIMIT = Decimal("100000")


@dataclass(frozen=True)
class Report:
    provider: str
    provider_message_id: str
    status: str  # the provider's word, e.g. "delivered", "undelivered"
    dedupe_key: str
    error_code: str = ""
    error_message: str = ""
    price: Decimal | None = None
    price_unit: str = ""
    payload: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: DeliveryEvent) -> "Report":
        """The report as it was kept."""
        return cls(
            provider=event.provider,
            provider_message_id=event.provider_message_id,
            status=event.status,
            dedupe_key=event.dedupe_key,
            error_code=event.error_code,
            price=event.price,
            price_unit=event.price_unit,
            payload=event.payload,
        )


def parse_price(raw: object) -> Decimal | None:
    """Twilio reports "-0.00750"; the cost is its absolute value. Junk is None."""
    try:
        value = abs(Decimal(str(raw).strip()))
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value >= _PRICE_LIMIT:
        return None
    return value.quantize(Decimal("0.00001"))


def our_status(word: str) -> str | None:
    word = word.strip().lower()
    if word in _ALIASES:
        return _ALIASES[word]
    return word if word in STATUS_RANK else None


def apply(report: Report) -> DeliveryEvent | None:
    """Record the report and move its message forward; None for a repeated report."""
    with transaction.atomic():
        message = _locked_message(provider_message_id=report.provider_message_id)
        try:
            with transaction.atomic():
                event = DeliveryEvent.objects.create(
                    message=message,
                    provider=report.provider,
                    provider_message_id=report.provider_message_id,
                    dedupe_key=report.dedupe_key[:200],
                    status=report.status[:20],
                    error_code=report.error_code[:20],
                    price=report.price,
                    price_unit=report.price_unit[:3],
                    payload=clean_data(redact_data(report.payload)),
                )
        except IntegrityError:
            log.info("delivery report %s already recorded", report.dedupe_key)
            return None
        if message is None:
            log.warning(
                "delivery report for unknown %s message %s",
                report.provider,
                report.provider_message_id,
            )
            return event
        _apply_to(message, report)
    return event


def adopt_early_reports(within: timedelta = timedelta(days=1)) -> int:
    """Apply reports that came in before their send was recorded; returns how many.

    A provider can call back before the worker has written its answer (sends are
    written a few at a time): apply() keeps such a report without a message, and
    the periodic sweep joins it to the message here once that is written.
    """
    written = Message.objects.filter(
        provider=OuterRef("provider"), provider_message_id=OuterRef("provider_message_id")
    )
    early = DeliveryEvent.objects.filter(
        Exists(written), message__isnull=True, received_at__gte=timezone.now() - within
    ).order_by("received_at", "id")
    adopted = 0
    for event in early:
        with transaction.atomic():
            message = _locked_message(
                provider=event.provider, provider_message_id=event.provider_message_id
            )
            if message is None:
                continue
            event.message = message
            event.save(update_fields=["message"])
            _apply_to(message, Report.from_event(event))
        adopted += 1
    return adopted


def _locked_message(**lookup: str) -> Message | None:
    """The message a report is about, locked for this transaction, with its subscriber."""
    return (
        Message.objects.select_for_update(of=("self",))
        .select_related("subscriber")
        .filter(**lookup)
        .first()
    )


def _apply_to(message: Message, report: Report) -> None:
    _update_message(message, report)
    if report.error_code:
        actions.act_on_error(
            phone=message.phone,
            code=report.error_code,
            provider=report.provider,
            provider_message_id=report.provider_message_id,
            message_id=message.pk,
        )


def _update_message(message: Message, report: Report) -> None:
    status = our_status(report.status)
    if status is not None and STATUS_RANK[status] > STATUS_RANK.get(message.status, -1):
        message.status = status
        now = timezone.now()
        if STATUS_RANK[status] >= STATUS_RANK[MessageStatus.SENT] and message.sent_at is None:
            message.sent_at = now
        if status in (MessageStatus.DELIVERED, MessageStatus.READ) and not message.delivered_at:
            message.delivered_at = now
    if report.error_code or report.error_message:
        message.error_code = report.error_code[:20]
        message.error_message = report.error_message or error_codes.meaning(report.error_code)
    if report.price is not None:
        message.price_actual = report.price
        message.price_unit = (report.price_unit or "USD")[:3].upper()
    message.save()
