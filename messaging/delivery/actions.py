"""What a provider's error does to a number: one decision for sends and delivery reports.

An error whose code means the recipient opted out at the provider (Twilio
21610) records an opt-out with the provider as its source. AWS's "on the opt-out
list" (SNS OptedOut, End User Messaging DESTINATION_PHONE_NUMBER_OPTED_OUT) does
not: AWS's list may hold a number the person opted back in to (a START not yet
taken off it, the 30-day rule), so an opted-in subscriber is shown for review
with AWS's reason and consent stays as it is (invariant 11). One
that means the number cannot receive messages (21211, 21614, 30005, 30006,
63003, SNS InvalidParameter) marks the subscriber undeliverable, which leaves
it out of every later send. The same happens whether the error came back from
the send itself or hours later in a delivery report.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from messaging.delivery import error_codes
from smsbot.redaction import mask_phone
from subscribers import consent, provider_opt_outs
from subscribers.models import ConsentSource, ConsentStatus, Subscriber

log = logging.getLogger(__name__)


def act_on_error(
    *,
    phone: str,
    code: str,
    provider: str,
    provider_message_id: str = "",
    message_id: int,
    text: str = "",
) -> error_codes.Action:
    """Apply what code does to the number; returns the code's action (NONE when unknown)."""
    known = error_codes.describe(code)
    if known is None:
        return error_codes.Action.NONE
    if known.action == error_codes.Action.OPT_OUT:
        evidence = {
            "error_code": known.code,
            "provider": provider,
            "provider_message_id": provider_message_id,
            "message_id": message_id,
        }
        _opt_out(phone, evidence)
    elif known.action == error_codes.Action.PROVIDER_OPT_OUT and not _opt_in_in_flight(phone):
        reason = f"{provider} refused the send: {known.meaning}" + (f" — {text}" if text else "")
        provider_opt_outs.hold_for_review(
            phone,
            reason,
            {"error_code": known.code, "provider": provider, "message_id": message_id,
             "provider_message_id": provider_message_id},
        )  # fmt: skip
    elif known.action == error_codes.Action.UNDELIVERABLE:
        _mark_undeliverable(phone, f"{provider} error {known.code}: {known.meaning}")
    return known.action


def _opt_in_in_flight(phone: str) -> bool:
    """Opted in so recently that taking the number off AWS's list may still be under way
    (messaging.providers.opt_out_sync): that sync records AWS's refusal itself."""
    since = timezone.now() - timedelta(seconds=settings.AWS_OPT_IN_SYNC_GRACE_SECONDS)
    return Subscriber.objects.filter(phone=phone, opted_in_at__gte=since).exists()


def _opt_out(phone: str, evidence: dict[str, object]) -> None:
    try:
        consent.change(phone, ConsentStatus.OPTED_OUT, ConsentSource.PROVIDER, evidence)
    except (consent.ConsentError, ValueError) as err:
        log.error("could not record the provider's opt-out of %s: %s", mask_phone(phone), err)
        return
    log.info("%s opted out at the provider (%s)", mask_phone(phone), evidence["error_code"])


def _mark_undeliverable(phone: str, reason: str) -> None:
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(phone=phone).first()
        if subscriber is not None and not subscriber.undeliverable:
            subscriber.undeliverable = True
            subscriber.undeliverable_reason = reason[:200]
            # save(), not update(): the version bump carries the change to the mirror.
            subscriber.save(update_fields=["undeliverable", "undeliverable_reason"])
