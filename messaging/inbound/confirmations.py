"""Double opt-in: a pending subscriber gets a "Reply YES to confirm" message.

Anyone can type a number into a form, so the confirmation is what SMS pumping
abuses. It is withheld, and the subscriber stays pending, when the number had
one in the last 24 hours (the person can answer that one), or when the hourly
cap (messaging.outbound.confirmation_cap) is reached. A withheld confirmation
is recorded as a skipped message with the reason, so the message log shows it.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from messaging import task_names
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbound import confirmation_cap
from messaging.outbound.build import outbound
from smsbot import outbox
from smsbot.celery import REPLIES_QUEUE
from smsbot.redaction import mask_phone
from subscribers import hooks
from subscribers.consent import consent_changed
from subscribers.models import Channel, ConsentStatus, Subscriber

log = logging.getLogger(__name__)

PER_NUMBER = timedelta(hours=24)
ONE_A_DAY = "withheld: this number was sent a confirmation less than 24 hours ago"
CAPPED = "withheld: OPTIN_CONFIRMATIONS_PER_HOUR confirmations were sent in the last hour"


def confirmation(phone: str, channel: str, **fields: Any) -> Message:
    """The unsaved confirmation message for this number on this channel, priced."""
    template_sid = ""
    if channel == Channel.WHATSAPP:
        template_sid = settings.OPTIN_CONFIRMATION_WHATSAPP_CONTENT_SID
    return outbound(
        kind=MessageKind.CONFIRMATION,
        channel=channel,
        provider=settings.SMS_PROVIDER,
        phone=phone,
        body=settings.OPTIN_CONFIRMATION_TEXT,
        template=bool(template_sid),
        content_sid=template_sid,
        **fields,
    )


@hooks.set_confirmation_pricer
def confirmation_price(phone: str, channel: str) -> Decimal:
    """What the subscribers import shows for each row it will make pending."""
    return confirmation(phone, channel).price_estimated


def queue_confirmation(subscriber: Subscriber) -> Message:
    """Record the confirmation message and queue its sending (or record why it is
    withheld), in one transaction."""
    message = confirmation(
        subscriber.phone, subscriber.channel, status=MessageStatus.QUEUED, subscriber=subscriber
    )
    with transaction.atomic():
        confirmation_cap.serialize()
        reason = withheld_reason(subscriber.phone, timezone.now())
        if reason:
            message.status = MessageStatus.SKIPPED
            message.error_message = reason
            message.price_estimated = Decimal("0")
        message.save()
        if not reason:
            outbox.enqueue(task_names.SEND_MESSAGE, message.id, queue=REPLIES_QUEUE)
    if reason == CAPPED:
        log.warning(
            "opt-in confirmation to %s withheld: %d confirmations were sent in the last hour "
            "(OPTIN_CONFIRMATIONS_PER_HOUR); the sign-up stays pending",
            mask_phone(subscriber.phone),
            settings.OPTIN_CONFIRMATIONS_PER_HOUR,
        )
    elif reason:
        log.info("opt-in confirmation to %s %s", mask_phone(subscriber.phone), reason)
    return message


def withheld_reason(phone: str, now: datetime) -> str:
    """Why a confirmation to phone must not go now ("" when it may); records a cap trip.
    Called under confirmation_cap.serialize(), so that the counts cannot race."""
    sent = confirmation_cap.sent_confirmations()
    if sent.filter(phone=phone, created_at__gt=now - PER_NUMBER).exists():
        return ONE_A_DAY
    if confirmation_cap.reached(now):
        confirmation_cap.record_trip(now)
        return CAPPED
    return ""


@receiver(consent_changed, dispatch_uid="messaging.inbound.confirmations.on_consent_changed")
def on_consent_changed(
    sender: object, subscriber: Subscriber, to_status: str, **kwargs: Any
) -> None:
    if to_status == ConsentStatus.PENDING:
        queue_confirmation(subscriber)
