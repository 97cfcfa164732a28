"""Double opt-in: a pending subscriber gets a "Reply YES to confirm" message."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver

from messaging import task_names
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbound.build import outbound
from smsbot import outbox
from smsbot.celery import REPLIES_QUEUE
from subscribers import hooks
from subscribers.consent import consent_changed
from subscribers.models import Channel, ConsentStatus, Subscriber


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
    """Record the confirmation message and queue its sending, in one transaction."""
    message = confirmation(
        subscriber.phone, subscriber.channel, status=MessageStatus.QUEUED, subscriber=subscriber
    )
    with transaction.atomic():
        message.save()
        outbox.enqueue(task_names.SEND_MESSAGE, message.id, queue=REPLIES_QUEUE)
    return message


@receiver(consent_changed, dispatch_uid="messaging.inbound.confirmations.on_consent_changed")
def on_consent_changed(
    sender: object, subscriber: Subscriber, to_status: str, **kwargs: Any
) -> None:
    if to_status == ConsentStatus.PENDING:
        queue_confirmation(subscriber)
