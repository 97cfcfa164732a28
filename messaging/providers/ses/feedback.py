"""What SES's bounce and complaint notifications do to an address.

The configuration set's event destination publishes each event to the feedback
topic as JSON with "eventType" (SES "event publishing"); an identity's own
feedback notifications say "notificationType" instead, with the same "bounce" and
"complaint" objects ("Amazon SES notification contents"). Both are read.

A permanent (hard) bounce marks the address undeliverable: no e-mail goes to it
again. A complaint (the recipient pressed "spam") opts the address out through
consent.change, with the notification as the evidence. Transient bounces change
nothing. Every notification is kept as a DeliveryEvent, once per SNS MessageId,
so SNS's retries and replays act once.
"""

import logging
from typing import Any

from django.db import IntegrityError, transaction

from messaging.models import DeliveryEvent, Message, Provider
from subscribers import consent
from subscribers.models import ConsentSource, ConsentStatus, Subscriber

log = logging.getLogger(__name__)


class InvalidFeedback(ValueError):
    """A verified notification that is not an SES bounce or complaint we can read."""


def _recipients(event: dict[str, Any], part: str, key: str) -> list[str]:
    found = event.get(part, {}).get(key, [])
    if not isinstance(found, list):
        raise InvalidFeedback(f"{part}.{key} is not a list")
    return [str(r.get("emailAddress", ""))[:254] for r in found if isinstance(r, dict)]


def apply(sns_message_id: str, event: dict[str, Any]) -> str:
    """Apply one SES notification; returns what it was ("bounce", "complaint", ...)."""
    kind = str(event.get("eventType") or event.get("notificationType") or "").lower()
    if kind not in ("bounce", "complaint"):
        log.info("SES %s notification: nothing to do", kind[:40] or "unknown")
        return kind or "unknown"
    mail_id = str(event.get("mail", {}).get("messageId", ""))[:100]
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = DeliveryEvent.objects.create(
                    message=Message.objects.filter(provider_message_id=mail_id).first()
                    if mail_id
                    else None,
                    provider=Provider.SES,
                    provider_message_id=mail_id,
                    dedupe_key=f"ses:{sns_message_id}"[:200],
                    status=kind,
                    payload=consent.bounded(event),
                )
        except IntegrityError:
            log.info("SES %s notification %s applied already", kind, sns_message_id[:80])
            return kind
        if kind == "bounce":
            _bounce(event, record)
        else:
            _complaint(event, record, sns_message_id)
    return kind


def _subscribers(addresses: list[str]) -> list[Subscriber]:
    found = []
    for address in addresses:
        subscriber = Subscriber.objects.filter(
            email__iexact=address, erased_at__isnull=True
        ).first()
        if subscriber is not None:
            found.append(subscriber)
    return found


def _bounce(event: dict[str, Any], record: DeliveryEvent) -> None:
    bounce = event.get("bounce", {})
    if bounce.get("bounceType") != "Permanent":
        return  # a full mailbox, an auto-reply: SES itself tries again
    reason = f"SES hard bounce ({bounce.get('bounceSubType', '')}), delivery event #{record.pk}"
    for subscriber in _subscribers(_recipients(event, "bounce", "bouncedRecipients")):
        with transaction.atomic():
            row = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
            if not row.email_undeliverable:
                row.email_undeliverable = True
                row.email_undeliverable_reason = reason[:200]
                # save(), not update(): the version bump carries the change to the mirror.
                row.save(update_fields=["email_undeliverable", "email_undeliverable_reason"])


def _complaint(event: dict[str, Any], record: DeliveryEvent, sns_message_id: str) -> None:
    evidence = {
        "ses_notification": event,
        "sns_message_id": sns_message_id,
        "delivery_event": record.pk,
    }
    for subscriber in _subscribers(_recipients(event, "complaint", "complainedRecipients")):
        if subscriber.email_status != ConsentStatus.OPTED_OUT:
            consent.change(
                subscriber.phone,
                ConsentStatus.OPTED_OUT,
                ConsentSource.PROVIDER,
                evidence,
                email="",
            )
