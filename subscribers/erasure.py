"""Erasure of a subscriber's personal data on a deletion request.

The consent trail survives: events keep their salted phone hash (and an
address's events its salted e-mail hash), so "was this number (address) opted in
on that day?" can still be answered for someone who presents it, while the
portal itself no longer holds either.
"""

from typing import Any

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from smsbot import outbox
from subscribers import task_names
from subscribers.consent import change
from subscribers.models import ConsentSource, ConsentStatus, Conversation, Subscriber

# Sent inside the erasing transaction with phone (the number) and placeholder
# (what replaces it): other apps forget the number in the same commit.
erasing = Signal()


def placeholder(subscriber: Subscriber) -> str:
    return f"erased-{subscriber.pk}"


def erase(subscriber: Subscriber, evidence: dict[str, Any]) -> Subscriber:
    """Opt the number and the address out, then anonymise them, the messages and the
    conversation."""
    if subscriber.erased_at is not None:
        return subscriber
    phone = subscriber.phone
    anonymous = placeholder(subscriber)
    with transaction.atomic():
        # Opted out first, inside the same transaction: whatever happens next,
        # the row can never be sent to again.
        subscriber = change(
            phone, ConsentStatus.OPTED_OUT, ConsentSource.ADMIN, evidence
        ).subscriber
        if subscriber.email:
            # The address's own opt-out event (keeping its hash) before it goes.
            subscriber = change(
                phone, ConsentStatus.OPTED_OUT, ConsentSource.ADMIN, evidence, email=""
            ).subscriber
        erasing.send(sender=Subscriber, phone=phone, placeholder=anonymous)
        Conversation.objects.filter(phone_number=phone).delete()
        subscriber.phone = anonymous
        subscriber.erased_at = timezone.now()
        subscriber.undeliverable_reason = ""
        # No address, no e-mail consent: the opt-out above is in the address's events.
        subscriber.email = ""
        subscriber.email_status = ""
        subscriber.email_undeliverable_reason = ""
        subscriber.save()
        outbox.enqueue(task_names.MIRROR_DELETE_SUBSCRIBER, phone)
    return subscriber
