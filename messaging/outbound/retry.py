"""Operator-requested retry of a message, only where sending it again is safe."""

from django.db import transaction
from django.utils import timezone

from messaging import task_names
from messaging.delivery import error_codes
from messaging.models import Message, MessageKind, MessageStatus, ProviderCall
from smsbot import outbox
from smsbot.celery import BULK_QUEUE, REPLIES_QUEUE
from subscribers.models import ConsentStatus

# Errors that will fail the same way again: the number is gone, opted out, or the
# message needs a different form (a WhatsApp template).
_PERMANENT_ACTIONS = {
    error_codes.Action.OPT_OUT,
    error_codes.Action.UNDELIVERABLE,
    error_codes.Action.RESEND_AS_TEMPLATE,
}
_PERMANENT_OUTCOMES = {"permanent"}


NEEDS_CONFIRMATION = "It may have been sent already: confirm the provider did not send it."


class RetryRefused(Exception):
    """The message may not be retried; str(exc) says why."""


def refusal(message: Message) -> str | None:
    """Why message may not be retried, or None when it may."""
    if message.direction != "outbound":
        return "Only outbound messages can be sent again."
    if message.status not in (MessageStatus.FAILED, MessageStatus.NEEDS_REVIEW):
        return f"Only failed or needs-review messages can be retried, not {message.status}."
    known = error_codes.describe(message.error_code)
    if known is not None and known.action in _PERMANENT_ACTIONS:
        return f"Error {known.code} is permanent: {known.meaning}."
    last_call = ProviderCall.objects.filter(message=message).order_by("-created_at", "-id").first()
    if last_call is not None and last_call.outcome in _PERMANENT_OUTCOMES:
        return "The provider rejected this message permanently."
    subscriber = message.subscriber
    if (
        message.kind == MessageKind.BROADCAST
        and subscriber is not None
        and subscriber.consent_status != ConsentStatus.OPTED_IN
    ):
        return "The subscriber is no longer opted in."
    return None


def retry(message_id: int, *, confirmed_not_sent: bool = False) -> Message:
    """Put the message back in the queue and queue its send task; raises RetryRefused.

    A message in needs_review may have reached the recipient already: it is only
    sent again when the operator confirmed the provider did not send it.
    """
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        reason = refusal(message)
        needs_review = message.status == MessageStatus.NEEDS_REVIEW
        if reason is None and needs_review and not confirmed_not_sent:
            reason = NEEDS_CONFIRMATION
        if reason:
            raise RetryRefused(reason)
        # Conditional on the status just checked, so a concurrent change wins.
        Message.objects.filter(pk=message.pk, status=message.status).update(
            status=MessageStatus.QUEUED, next_attempt_at=None, updated_at=timezone.now()
        )
        queue = BULK_QUEUE if message.kind == MessageKind.BROADCAST else REPLIES_QUEUE
        outbox.enqueue(task_names.SEND_MESSAGE, message.pk, queue=queue)
    message.refresh_from_db()
    return message


def retry_many(ids: list[int], *, confirmed_not_sent: bool) -> tuple[int, list[tuple[int, str]]]:
    """Retry each message that may be; returns (how many, [(id, why not)...])."""
    retried, refused = 0, []
    for pk in ids:
        try:
            retry(pk, confirmed_not_sent=confirmed_not_sent)
        except RetryRefused as exc:
            refused.append((pk, str(exc)))
        else:
            retried += 1
    return retried, refused
