"""A number AWS holds opted out while the portal holds it opted in: shown for review.

DESIGN invariant 11: the portal's consent and the provider's opt-out list agree, or
the difference is repaired or shown — never resolved by changing consent. So an
"opted out" refusal from AWS, a refused opt-in (the 30-day rule) or the daily
reconcile marks the subscriber (provider_opt_out_at, with AWS's reason) and
writes a SubscriberEvent with the evidence; the mark goes when the two agree
again (AWS took the number off its list, or the person opted out here too).
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from subscribers.models import (
    ConsentSource,
    ConsentStatus,
    Subscriber,
    SubscriberEvent,
    SubscriberEventKind,
)

REASON_CHARS = 300


def note(subscriber: Subscriber, after: str, evidence: dict[str, Any], before: str = "") -> None:
    """A line in the subscriber's history about the number's place on AWS's list."""
    SubscriberEvent.objects.create(
        subscriber=subscriber,
        kind=SubscriberEventKind.AWS_OPT_OUT,
        before=before[:40],
        after=after[:40],
        source=ConsentSource.PROVIDER,
        evidence=evidence,
    )


def hold_for_review(phone: str, reason: str, evidence: dict[str, Any]) -> bool:
    """Mark an opted-in subscriber AWS holds opted out; False when there is nothing to mark
    (unknown number, not opted in, or already marked)."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(phone=phone).first()
        if (
            subscriber is None
            or subscriber.consent_status != ConsentStatus.OPTED_IN
            or subscriber.provider_opt_out_at is not None
        ):
            return False
        subscriber.provider_opt_out_at = timezone.now()
        subscriber.provider_opt_out_reason = reason[:REASON_CHARS]
        subscriber.save(update_fields=["provider_opt_out_at", "provider_opt_out_reason"])
        note(subscriber, "needs review", {"reason": reason, **evidence}, before="opted in here")
    return True


def clear(subscriber_id: int, why: str) -> bool:
    """The two agree again: drop the mark, saying why."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
        if subscriber is None or subscriber.provider_opt_out_at is None:
            return False
        subscriber.provider_opt_out_at = None
        subscriber.provider_opt_out_reason = ""
        subscriber.save(update_fields=["provider_opt_out_at", "provider_opt_out_reason"])
        note(subscriber, "agrees", {"reason": why}, before="needs review")
    return True


def held_for_review() -> Any:
    """Subscribers AWS holds opted out while the portal holds them opted in."""
    return Subscriber.objects.filter(
        provider_opt_out_at__isnull=False, consent_status=ConsentStatus.OPTED_IN
    ).order_by("provider_opt_out_at")
