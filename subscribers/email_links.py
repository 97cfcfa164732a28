"""The signed links an e-mail carries: double opt-in confirmation and unsubscribe.

Both are django.core.signing tokens under their own salt, so one can never be
used as the other. A confirmation names the pending ConsentEvent it confirms and
expires after EMAIL_CONFIRM_HOURS: it is used once that event is no longer the
address's latest (confirmed, unsubscribed, or a newer sign-up sent a newer link).
An unsubscribe link names the subscriber and a hash of the address and never
expires (RFC 8058 one-click links are followed long after the mail was sent);
it stops working only when the subscriber's address changes.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from subscribers.consent import address_hash
from subscribers.models import AddressKind, ConsentEvent, ConsentStatus, Subscriber

CONFIRM_SALT = "subscribers.email.confirm"
UNSUBSCRIBE_SALT = "subscribers.email.unsubscribe"
# Enough of the address's hash to tell addresses apart, short enough for a URL.
HASH_CHARS = 24


class LinkProblem(Exception):
    """Why a link does nothing; str(exc) is said to the person who followed it."""


@dataclass(frozen=True)
class Confirmation:
    subscriber: Subscriber
    event: ConsentEvent


def confirm_token(subscriber: Subscriber, event: ConsentEvent) -> str:
    return signing.dumps({"s": subscriber.pk, "e": event.pk}, salt=CONFIRM_SALT, compress=True)


def unsubscribe_token(subscriber: Subscriber) -> str:
    digest = address_hash(subscriber.email)[:HASH_CHARS]
    return signing.dumps({"s": subscriber.pk, "h": digest}, salt=UNSUBSCRIBE_SALT, compress=True)


def confirm_url(subscriber: Subscriber, event: ConsentEvent) -> str:
    path = reverse("subscribers:email_confirm", args=[confirm_token(subscriber, event)])
    return settings.PUBLIC_BASE_URL + path


def unsubscribe_url(subscriber: Subscriber) -> str:
    path = reverse("subscribers:email_unsubscribe", args=[unsubscribe_token(subscriber)])
    return settings.PUBLIC_BASE_URL + path


def _payload(token: str, salt: str, max_age: float | None) -> dict[str, Any]:
    try:
        value = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkProblem(
            "This link has expired. Sign up again to get a new confirmation e-mail."
        ) from exc
    except signing.BadSignature as exc:
        raise LinkProblem("This link is not valid: it may have been cut or changed.") from exc
    if not isinstance(value, dict) or not all(isinstance(value.get(k), int) for k in ("s",)):
        raise LinkProblem("This link is not valid: it may have been cut or changed.")
    return value


def read_confirmation(token: str) -> Confirmation:
    """The pending address a confirmation link confirms; LinkProblem if it does nothing."""
    value = _payload(token, CONFIRM_SALT, settings.EMAIL_CONFIRM_HOURS * 3600)
    subscriber = Subscriber.objects.filter(pk=value["s"], erased_at__isnull=True).first()
    latest = (
        ConsentEvent.objects.filter(subscriber=subscriber, address_kind=AddressKind.EMAIL)
        .order_by("-created_at", "-id")
        .first()
        if subscriber is not None
        else None
    )
    if latest is None or latest.pk != value.get("e"):
        raise LinkProblem(
            "This link has been used already, or a newer confirmation e-mail replaced it."
        )
    if subscriber.email_status != ConsentStatus.PENDING or latest.email_hash != address_hash(
        subscriber.email
    ):
        raise LinkProblem("This link has been used already: nothing is waiting to be confirmed.")
    return Confirmation(subscriber, latest)


def read_unsubscribe(token: str) -> Subscriber:
    """The subscriber whose current address the link unsubscribes; LinkProblem otherwise."""
    value = _payload(token, UNSUBSCRIBE_SALT, None)
    subscriber = Subscriber.objects.filter(pk=value["s"], erased_at__isnull=True).first()
    if subscriber is None or not subscriber.email:
        raise LinkProblem("This link no longer matches an address we send to.")
    if address_hash(subscriber.email)[:HASH_CHARS] != value.get("h"):
        raise LinkProblem("This link no longer matches an address we send to.")
    return subscriber
