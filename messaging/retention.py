"""Message retention: blank old message bodies, forget erased numbers, keep the rest.

With MESSAGE_RETENTION_DAYS unset nothing is touched (the audit trail keeps
every body). When set, bodies and template variables of messages older than
that many days are blanked, as are the copies in provider-call records; status,
cost, provider ids and consent evidence (ConsentEvent) stay.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.dispatch import receiver
from django.utils import timezone

from messaging.models import DeliveryEvent, Message, ProviderCall
from subscribers.erasure import erasing

BATCH = 2000
# Where providers put the text in a provider-call request record.
BODY_KEYS = ("Body", "body", "Message", "ContentVariables")


def cutoff(now: datetime | None = None) -> datetime | None:
    days = settings.MESSAGE_RETENTION_DAYS
    if not days:
        return None
    return (now or timezone.now()) - timedelta(days=days)


def purge_old_bodies(now: datetime | None = None) -> int:
    """Blank bodies older than the retention period; returns how many messages changed."""
    before = cutoff(now)
    if before is None:
        return 0
    messages = Message.objects.filter(created_at__lt=before).filter(
        ~Q(body="") | ~Q(content_variables={})
    )
    purged, last = 0, 0
    # Batches keep each transaction (and its row locks) short on a large table.
    while ids := list(_after(messages, last).values_list("id", flat=True)[:BATCH]):
        purged += Message.objects.filter(id__in=ids).update(body="", content_variables={})
        last = ids[-1]
    _purge_provider_calls(before)
    return purged


def _purge_provider_calls(before: datetime) -> None:
    has_body = Q()
    for key in BODY_KEYS:
        has_body |= Q(request__form__has_key=key) | Q(request__has_key=key)
    calls = ProviderCall.objects.filter(created_at__lt=before).filter(has_body)
    last = 0
    while batch := list(_after(calls, last).only("id", "request")[:BATCH]):
        with transaction.atomic():
            for call in batch:
                call.request = _without_bodies(call.request)
                call.save(update_fields=["request"])
        last = batch[-1].id


def _after(queryset: QuerySet, last_id: int) -> QuerySet:
    return queryset.filter(id__gt=last_id).order_by("id")


def _without_bodies(request: dict) -> dict:
    cleaned = {k: v for k, v in request.items() if k not in BODY_KEYS}
    if isinstance(cleaned.get("form"), dict):
        cleaned["form"] = _without_bodies(cleaned["form"])
    return cleaned


@receiver(erasing, dispatch_uid="messaging.retention.forget_number")
def forget_number(sender: object, phone: str, placeholder: str, **kwargs: object) -> None:
    """An erased number's messages keep status and cost, not the number or the text."""
    messages = Message.objects.filter(phone=phone)
    DeliveryEvent.objects.filter(message__in=messages).update(payload={})
    messages.update(body="", content_variables={}, phone=placeholder)
