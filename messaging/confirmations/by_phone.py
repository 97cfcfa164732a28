"""Double opt-in: a pending subscriber gets a "Reply YES to confirm" message.

Anyone can type a number into a form, so the confirmation is what SMS pumping
abuses. It is skipped, and the subscriber stays pending, when the number had
one (sent or held) in the last 24 hours: the person can answer that one. When
the hourly cap (messaging.confirmations.hourly_cap) has no room it is held and
goes out later, in turn with the other sign-up sources' and oldest first within its
own. Either way the message log shows the reason.
"""

import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from messaging.billing.build import outbound
from messaging.confirmations import hourly_cap
from messaging.confirmations.by_email import email_confirmation
from messaging.models import Message, MessageKind, MessageStatus
from smsbot.redaction import mask_phone
from subscribers import hooks
from subscribers.consent import consent_changed, number_confirmation_channel
from subscribers.models import AddressKind, Channel, ConsentStatus, Subscriber

log = logging.getLogger(__name__)

PER_NUMBER = timedelta(hours=24)
ONE_A_DAY = "skipped: this number had a confirmation (sent or held) less than 24 hours ago"


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
    """What the subscribers import shows for each confirmation it will send (an
    address's, channel email, is the e-mail messaging.confirmations.by_email sends)."""
    if channel == Channel.EMAIL:
        return email_confirmation(phone).price_estimated
    return confirmation(phone, channel).price_estimated


def queue_confirmation(subscriber: Subscriber, signup_source: str = "") -> Message:
    """Record the confirmation message and queue its sending, hold it for the cap or
    record why it is skipped, in one transaction. signup_source: where the sign-up came
    from (smsbot.client_ip.signup_source), "" for imports and the admin."""
    channel = number_confirmation_channel(subscriber.channel)
    message = confirmation(
        subscriber.phone,
        channel,
        status=MessageStatus.HELD,
        subscriber=subscriber,
        signup_source=signup_source,
    )
    message.error_message = hourly_cap.HELD
    with transaction.atomic():
        hourly_cap.serialize()
        now = timezone.now()
        recent = hourly_cap.sent_confirmations().filter(
            phone=subscriber.phone, created_at__gt=now - PER_NUMBER
        )
        if recent.exists():
            message.status = MessageStatus.SKIPPED
            message.error_message = ONE_A_DAY
            message.price_estimated = Decimal("0")
        message.save()
        # Held first, then released with the others as room allows: in turn per source.
        if message.status == MessageStatus.HELD and message.pk in hourly_cap.release(now):
            message.status, message.error_message = MessageStatus.QUEUED, ""
    if message.status == MessageStatus.HELD:
        log.warning(
            "opt-in confirmation to %s held: the hourly cap (OPTIN_CONFIRMATIONS_PER_HOUR, "
            "%d) or its share for this country or number prefix is used up; it goes out "
            "as room comes, or is skipped after a day",
            mask_phone(subscriber.phone),
            settings.OPTIN_CONFIRMATIONS_PER_HOUR,
        )
    elif message.status == MessageStatus.SKIPPED:
        log.info("opt-in confirmation to %s skipped: %s", mask_phone(subscriber.phone), ONE_A_DAY)
    return message


@receiver(consent_changed, dispatch_uid="messaging.confirmations.by_phone.on_consent_changed")
def on_consent_changed(
    sender: object, subscriber: Subscriber, to_status: str, **kwargs: Any
) -> None:
    # An e-mail address's confirmation is an e-mail (messaging.confirmations.by_email).
    if to_status == ConsentStatus.PENDING and kwargs.get("address_kind") != AddressKind.EMAIL:
        queue_confirmation(subscriber, kwargs.get("signup_source", ""))
