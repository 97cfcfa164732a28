"""Double opt-in: a pending subscriber gets a "Reply YES to confirm" message."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver

from messaging import task_names
from messaging.models import Message, MessageKind, MessageStatus
from messaging.outbound.build import outbound
from smsbot import outbox
from smsbot.celery import REPLIES_QUEUE
from subscribers.consent import consent_changed
from subscribers.models import Channel, ConsentStatus, Subscriber


def queue_confirmation(subscriber: Subscriber) -> Message:
    """Record the confirmation message and queue its sending, in one transaction."""
    body = settings.OPTIN_CONFIRMATION_TEXT
    template_sid = ""
    if subscriber.channel == Channel.WHATSAPP:
        template_sid = settings.OPTIN_CONFIRMATION_WHATSAPP_CONTENT_SID
    message = outbound(
        kind=MessageKind.CONFIRMATION,
        channel=subscriber.channel,
        provider=settings.SMS_PROVIDER,
        phone=subscriber.phone,
        body=body,
        template=bool(template_sid),
        status=MessageStatus.QUEUED,
        subscriber=subscriber,
        content_sid=template_sid,
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
