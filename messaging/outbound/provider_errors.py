"""What a provider's error does to its message and its broadcast, beyond the number.

The error table (messaging.delivery.error_codes) gives each code an action;
messaging.delivery.actions applies what concerns the number (opt-out,
undeliverable). This module applies the rest, for errors from the send itself
and, through a task queued by the delivery report, for errors a status callback
reports later:

- REGISTRATION (30034, 30032, 21608): the account lacks a registration or
  verification. The banner says which and what to do; the broadcast pauses once
  REGISTRATION_ERRORS_PAUSE_AFTER of its messages met one, so nothing more is
  claimed (and spent) until an operator fixes it and resumes.
- CARRIER_FILTERED (30007, eum:Spam, eum:Blocked): not here; the brake
  (messaging.delivery.brake) counts them as the report is applied.
- RESEND_AS_TEMPLATE (63016): the free-form message was not delivered; it goes
  again, once, as the approved template where one is configured.
- MARKETING_TEMPLATE (63049): never retried for a US number (Meta delivers no
  marketing template there); elsewhere as RETRY_LATER.
- RETRY_LATER (63018, 63049 outside the US): sent again after a growing delay,
  PROVIDER_RETRY_LIMIT times at most.

Every change is a conditional UPDATE on the message as the report found it
(not delivered, still carrying the reported provider id), so a callback Twilio
retries, or two copies handled at once, act once.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from messaging import task_names
from messaging.billing import pricing
from messaging.broadcasts import states
from messaging.delivery.error_codes import Action, ErrorCode, codes_with, describe
from messaging.models import (
    Broadcast,
    BroadcastState,
    Message,
    MessageStatus,
)
from messaging.outbound import config_errors
from smsbot import outbox
from smsbot.celery import BULK_QUEUE
from smsbot.redaction import mask_phone, redact
from subscribers.phones import region_of

log = logging.getLogger(__name__)

# The statuses in which a provider said the message did not arrive.
NOT_DELIVERED = (MessageStatus.UNDELIVERED, MessageStatus.FAILED)


def act_on_report(message_id: int, code: str, provider_message_id: str) -> str:
    """Apply code's policy to a message a delivery report said failed; what was done."""
    known = describe(code)
    message = Message.objects.select_related("broadcast").filter(pk=message_id).first()
    if known is None or message is None:
        return "nothing"
    if known.action == Action.REGISTRATION:
        return registration_error(message, known, known.meaning)
    if known.action == Action.RESEND_AS_TEMPLATE:
        done = requeue_as_template(message, known.code, known.meaning, provider_message_id)
        return "template" if done else "no template"
    if known.action == Action.MARKETING_TEMPLATE and region_of(message.phone) == "US":
        log.info("63049 for %s: not retried (a US number)", mask_phone(message.phone))
        return "not retried"
    if known.action in (Action.MARKETING_TEMPLATE, Action.RETRY_LATER):
        return "retry" if retry_later(message, provider_message_id) else "not retried"
    return "nothing"


def registration_error(message: Message, known: ErrorCode, text: str) -> str:
    """Banner now; pause the broadcast once a few of its messages met such an error."""
    config_errors.remember(message.provider, known.code, text)
    broadcast = message.broadcast
    if broadcast is None:
        return "banner"
    met = Message.objects.filter(
        broadcast=broadcast, error_code__in=codes_with(Action.REGISTRATION)
    ).count()
    if met < settings.REGISTRATION_ERRORS_PAUSE_AFTER:
        return "banner"
    states.pause(broadcast, f"{message.provider} {known.code}: {known.meaning}")
    return "paused"


def requeue_as_template(
    message: Message, code: str, text: str, provider_message_id: str | None = None
) -> bool:
    """WhatsApp outside the 24-hour window: one more attempt, with the approved template.

    The empty body tells the provider to send the template (ContentSid), not text,
    and is what makes this happen once: the claim matches only a message that still
    has its free-form body. From a send error the message is the caller's (sending);
    from a delivery report it must be the undelivered one the report named.
    """
    broadcast = message.broadcast
    content_sid = message.template_sid
    if not content_sid or not message.body:
        return False  # no template, or this already was the template attempt
    variables = message.content_variables or (
        broadcast.whatsapp_content_variables if broadcast else {}
    )
    price = pricing.estimate(
        message.provider, message.channel, "", phone=message.phone, template=True
    )
    claim = Message.objects.filter(pk=message.pk, body__gt="")
    if provider_message_id is None:
        claim = claim.filter(status=MessageStatus.SENDING)
    else:
        claim = claim.filter(status__in=NOT_DELIVERED, provider_message_id=provider_message_id)
    with transaction.atomic():
        resent = claim.update(
            status=MessageStatus.QUEUED,
            # The first attempt's id goes: a late callback about it (a "failed" after the
            # "undelivered" Twilio sends) must not settle the template attempt.
            provider_message_id=None,
            body="",
            content_sid=content_sid,
            content_variables=variables,
            price_estimated=price,
            next_attempt_at=None,
            error_code=code[:20],
            error_message=redact(text)[:2000],
            updated_at=timezone.now(),
        )
        if resent and provider_message_id is not None:
            _publish(message)
    return bool(resent)


def retry_later(message: Message, provider_message_id: str) -> bool:
    """Queue an undelivered message again after a growing delay, within the limit."""
    if message.attempts > settings.PROVIDER_RETRY_LIMIT:
        return False
    delay = settings.PROVIDER_RETRY_BASE_SECONDS * 2 ** max(0, message.attempts - 1)
    with transaction.atomic():
        queued = Message.objects.filter(
            pk=message.pk, status__in=NOT_DELIVERED, provider_message_id=provider_message_id
        ).update(
            status=MessageStatus.QUEUED,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            updated_at=timezone.now(),
        )
        if queued:
            _publish(message)
    return bool(queued)


def _publish(message: Message) -> None:
    """Send the requeued message: its broadcast, finished meanwhile, sends again."""
    if message.broadcast_id is not None:
        Broadcast.objects.filter(pk=message.broadcast_id, state=BroadcastState.DONE).update(
            state=BroadcastState.SENDING, finished_at=None
        )
    outbox.enqueue(task_names.SEND_MESSAGE, message.pk, queue=BULK_QUEUE)


def counts_by_error(broadcast: Broadcast) -> dict[str, int]:
    """The broadcast's failed messages per error code, e.g. 63049 counted apart."""
    rows = (
        Message.objects.filter(broadcast=broadcast)
        .filter(~Q(error_code=""))
        .values_list("error_code")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    return dict(rows)
