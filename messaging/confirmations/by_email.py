"""Double opt-in by e-mail: an address made pending gets one confirmation e-mail.

The e-mail itself (its link, signed at sending time so the message log never
holds a usable token) is rendered by the SES provider; here the message is
recorded and queued. With EMAIL_FROM unset e-mail is off: the address stays
pending and nothing is queued.
"""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver

from messaging import task_names
from messaging.billing.build import outbound
from messaging.models import Message, MessageKind, MessageStatus, Provider
from smsbot import outbox
from smsbot.celery import REPLIES_QUEUE
from subscribers.consent import consent_changed
from subscribers.models import AddressKind, Channel, ConsentStatus, Subscriber

# What the message log shows; the e-mail sent carries the signed link besides.
CONFIRMATION_TEXT = "Please confirm your e-mail address to get our daily message."


def email_confirmation(phone: str, **fields: Any) -> Message:
    """The unsaved confirmation e-mail of this number's subscriber's address, priced."""
    return outbound(
        kind=MessageKind.CONFIRMATION,
        channel=Channel.EMAIL,
        provider=Provider.SES,
        phone=phone,
        body=CONFIRMATION_TEXT,
        **fields,
    )


def queue_email_confirmation(subscriber: Subscriber) -> Message:
    message = email_confirmation(
        subscriber.phone, subscriber=subscriber, status=MessageStatus.QUEUED
    )
    with transaction.atomic():
        message.save()
        outbox.enqueue(task_names.SEND_MESSAGE, message.pk, queue=REPLIES_QUEUE)
    return message


@receiver(consent_changed, dispatch_uid="messaging.confirmations.by_email.on_email_pending")
def on_email_pending(sender: object, subscriber: Subscriber, to_status: str, **kwargs: Any) -> None:
    if (
        kwargs.get("address_kind") == AddressKind.EMAIL
        and to_status == ConsentStatus.PENDING
        and settings.EMAIL_FROM
    ):
        queue_email_confirmation(subscriber)
