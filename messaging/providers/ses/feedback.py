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

What is kept of a notification names its addresses only by their salted hash
(as the address's consent events do): events are append-only, so a raw address
kept here would outlive the subscriber's erasure. Which address it was can still
be checked by whoever presents it.
"""

import logging
import re
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


def _recipients_of(event: dict[str, Any], kind: str) -> list[str]:
    if kind == "bounce":
        return _recipients(event, "bounce", "bouncedRecipients")
    return _recipients(event, "complaint", "complainedRecipients")


def without_addresses(value: Any, addresses: list[str]) -> Any:
    """The notification with every recipient address (in the recipient lists,
    mail.destination, the headers and SMTP diagnostics alike) replaced by its hash."""
    pattern = re.compile(
        "|".join(re.escape(a) for a in sorted({a for a in addresses if a}, key=len, reverse=True)),
        re.IGNORECASE,
    )
    if not pattern.pattern:
        return value

    def redact(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub(lambda m: f"[address {consent.address_hash(m.group())[:16]}]", item)
        if isinstance(item, list):
            return [redact(i) for i in item]
        if isinstance(item, dict):
            return {k: redact(v) for k, v in item.items()}
        return item

    return redact(value)


def apply(sns_message_id: str, event: dict[str, Any]) -> str:
    """Apply one SES notification; returns what it was ("bounce", "complaint", ...)."""
    kind = str(event.get("eventType") or event.get("notificationType") or "").lower()
    if kind not in ("bounce", "complaint"):
        log.info("SES %s notification: nothing to do", kind[:40] or "unknown")
        return kind or "unknown"
    addresses = _recipients_of(event, kind)
    destination = event.get("mail", {}).get("destination", [])
    kept = without_addresses(
        event, addresses + [str(d) for d in destination if isinstance(destination, list)]
    )
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
                    payload=consent.bounded(kept),
                )
        except IntegrityError:
            log.info("SES %s notification %s applied already", kind, sns_message_id[:80])
            return kind
        if kind == "bounce":
            _bounce(event, addresses, record)
        else:
            _complaint(kept, addresses, record, sns_message_id)
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


def _bounce(event: dict[str, Any], addresses: list[str], record: DeliveryEvent) -> None:
    bounce = event.get("bounce", {})
    if bounce.get("bounceType") != "Permanent":
        return  # a full mailbox, an auto-reply: SES itself tries again
    reason = f"SES hard bounce ({bounce.get('bounceSubType', '')}), delivery event #{record.pk}"
    for subscriber in _subscribers(addresses):
        with transaction.atomic():
            row = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
            if not row.email_undeliverable:
                row.email_undeliverable = True
                row.email_undeliverable_reason = reason[:200]
                # save(), not update(): the version bump carries the change to the mirror.
                row.save(update_fields=["email_undeliverable", "email_undeliverable_reason"])


def _complaint(
    kept: dict[str, Any], addresses: list[str], record: DeliveryEvent, sns_message_id: str
) -> None:
    evidence = {
        "ses_notification": kept,
        "sns_message_id": sns_message_id,
        "delivery_event": record.pk,
    }
    for subscriber in _subscribers(addresses):
        if subscriber.email_status != ConsentStatus.OPTED_OUT:
            consent.change(
                subscriber.phone,
                ConsentStatus.OPTED_OUT,
                ConsentSource.PROVIDER,
                evidence,
                email="",
            )
