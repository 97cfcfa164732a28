"""The only writer of consent.

Every consent change — keyword, web form, API, admin, import, provider report —
goes through change(): it checks the transition, writes the new state and its
ConsentEvent in one transaction, and bumps the row's version.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from subscribers.models import (
    AddressKind,
    Channel,
    ConsentEvent,
    ConsentSource,
    ConsentStatus,
    Subscriber,
)
from subscribers.phones import normalize

# Sent after the transaction commits, with subscriber, from_status, to_status, source,
# address_kind (AddressKind: whose consent changed, the number's or the e-mail's) and
# signup_source (where a sign-up came from, smsbot.client_ip.signup_source; "" when
# no client asked: imports, the admin, the phone itself).
consent_changed = Signal()

ALLOWED: dict[str, set[str]] = {
    "": {ConsentStatus.PENDING, ConsentStatus.OPTED_IN, ConsentStatus.OPTED_OUT},
    ConsentStatus.PENDING: {ConsentStatus.OPTED_IN, ConsentStatus.OPTED_OUT},
    ConsentStatus.OPTED_IN: {ConsentStatus.OPTED_OUT},
    ConsentStatus.OPTED_OUT: {ConsentStatus.OPTED_IN, ConsentStatus.PENDING},
}


CONSENT_FIELDS = ["consent_status", "consent_source", "channel", "opted_in_at", "opted_out_at"]
EMAIL_FIELDS = [
    "email",
    "email_status",
    "email_consent_source",
    "email_undeliverable",
    "email_undeliverable_reason",
]

# Events are never deleted, so what one stores is bounded: each field a public door
# passes on, and the whole evidence of any change (what is past it is cut, never
# refused: a STOP is recorded whatever its webhook carried).
FIELD_CHARS = 200
MAX_EVIDENCE_BYTES = 16 * 1024


class ConsentError(ValueError):
    """A transition that is not allowed, or evidence that is missing."""


class OptedOutByEmail(ConsentError):
    """The address was unsubscribed by its owner (the link, a complaint): a form or an
    import cannot subscribe it again."""


class OptedOutByPhone(ConsentError):
    """The number's last opt-out came from the phone itself: only the phone can undo it."""


# Opt-outs the address's owner made: the unsubscribe link, or a complaint (spam button).
EMAIL_OWNER_SOURCES = (ConsentSource.EMAIL_LINK, ConsentSource.PROVIDER)

# Opt-outs the person made from the phone: a STOP keyword, or the carrier's or
# provider's own STOP handling (reported as an opt-out error, e.g. Twilio 21610).
PHONE_SOURCES = (ConsentSource.SMS_KEYWORD, ConsentSource.WHATSAPP_KEYWORD, ConsentSource.PROVIDER)


@dataclass(frozen=True)
class ConsentChange:
    subscriber: Subscriber
    changed: bool
    from_status: str
    to_status: str
    event: ConsentEvent | None
    created: bool


def phone_hash(phone: str) -> str:
    """The number's keyed hash, kept with consent evidence after an erasure; unset,
    PHONE_HASH_SALT is SECRET_KEY, the key every hash before it was made with."""
    salt = (settings.PHONE_HASH_SALT or settings.SECRET_KEY).encode()
    return hmac.new(salt, phone.encode(), hashlib.sha256).hexdigest()


def known_fields(data: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The named fields of a request's data, the rest dropped. Each is bounded: text is
    cut to FIELD_CHARS, and a structure longer than that as JSON is kept as its cut text."""
    kept: dict[str, Any] = {}
    for name in names:
        if name not in data:
            continue
        value = data[name]
        if isinstance(value, str):
            value = value[:FIELD_CHARS]
        elif isinstance(value, dict | list) and len(text := json.dumps(value)) > FIELD_CHARS:
            value = text[:FIELD_CHARS]
        kept[name] = value
    return kept


def bounded(evidence: dict[str, Any]) -> dict[str, Any]:
    """The evidence as stored: as given up to MAX_EVIDENCE_BYTES, else its beginning."""
    text = json.dumps(evidence, ensure_ascii=False, default=str)
    size = len(text.encode())
    if size <= MAX_EVIDENCE_BYTES:
        return evidence
    head = text.encode()[: MAX_EVIDENCE_BYTES // 2].decode(errors="ignore")
    return {"cut": f"{size} bytes of evidence, over the {MAX_EVIDENCE_BYTES} kept", "head": head}


def change(
    phone: str,
    to_status: str,
    source: str,
    evidence: dict[str, Any],
    *,
    channel: str | None = None,
    respect_phone_opt_out: bool = False,
    at: datetime | None = None,
    email: str | None = None,
    signup_source: str = "",
) -> ConsentChange:
    """Move the number's consent to to_status, recording the evidence.

    email: the change is of the e-mail address's consent instead (the subscriber of
    phone must exist): "" means the address on record; another address replaces it
    and starts its consent afresh (change_email).

    A number with no record is created (on channel, SMS by default). Asking for
    the state the number already has changes nothing and writes no event.
    respect_phone_opt_out: sign-ups and imports, which raise OptedOutByPhone for a
    number that texted STOP (see phone_opt_out_refusal), judged under the row's lock.
    at: when the consent was given, if before now (the demo's history, whose messages
    follow it); the event is dated so at its creation, as it is append-only. Never later
    than now.
    signup_source: the hashed network of the web or API client that asked (the
    confirmation cap releases held confirmations in turn per source).
    """
    if to_status not in ConsentStatus.values:
        raise ConsentError(f"unknown consent status {to_status!r}")
    if source not in ConsentSource.values:
        raise ConsentError(f"unknown consent source {source!r}")
    if not evidence:
        raise ConsentError("consent evidence is required")
    if channel is not None and channel not in Channel.values:
        raise ConsentError(f"unknown channel {channel!r}")
    if at is not None and at > timezone.now():
        raise ConsentError("consent cannot be dated in the future")
    e164 = normalize(phone)
    if email is not None:
        return _change_email(
            e164, email, to_status, source, evidence, respect_owner_opt_out=respect_phone_opt_out
        )

    # No savepoint of its own: inside a caller's transaction (an inbound webhook)
    # that is two round trips fewer. A refused transition is raised only once the
    # block is left, so it never spoils the caller's transaction.
    with transaction.atomic(savepoint=False):
        subscriber = Subscriber.objects.select_for_update().filter(phone=e164).first()
        created = subscriber is None
        if created:
            subscriber = Subscriber(phone=e164, channel=channel or Channel.SMS)
        from_status = "" if created else subscriber.consent_status
        if not created and from_status == to_status:
            return ConsentChange(subscriber, False, from_status, to_status, None, False)
        refusal = (
            phone_opt_out_refusal(None if created else subscriber, to_status)
            if respect_phone_opt_out
            else None
        )
        if refusal is None and to_status in ALLOWED[from_status]:
            return _apply(
                subscriber,
                created,
                from_status,
                to_status,
                source,
                evidence,
                channel,
                at,
                signup_source,
            )
    raise refusal or ConsentError(f"cannot change consent from {from_status} to {to_status}")


def _apply(
    subscriber: Subscriber,
    created: bool,
    from_status: str,
    to_status: str,
    source: str,
    evidence: dict[str, Any],
    channel: str | None,
    at: datetime | None,
    signup_source: str = "",
) -> ConsentChange:
    """Write the allowed transition and its event; called with the row locked."""
    now = at or timezone.now()
    subscriber.consent_status = to_status
    subscriber.consent_source = source
    if channel and not created and channel != subscriber.channel and to_status != "opted_out":
        subscriber.channel = channel
    if to_status == ConsentStatus.OPTED_IN:
        subscriber.opted_in_at = now
    elif to_status == ConsentStatus.OPTED_OUT:
        subscriber.opted_out_at = now
    if created:
        # A new number is inserted once, already in its new state (one write,
        # one mirror task).
        try:
            with transaction.atomic():
                subscriber.save(force_insert=True)
        except IntegrityError:
            # Another request created it a moment ago: apply the change to its row.
            return change(
                subscriber.phone,
                to_status,
                source,
                evidence,
                channel=channel,
                at=at,
                signup_source=signup_source,
            )
    else:
        # Only the consent columns: the mirror's own are not ours to write.
        subscriber.save(update_fields=CONSENT_FIELDS)
    event = ConsentEvent.objects.create(
        subscriber=subscriber,
        phone_hash=phone_hash(subscriber.phone),
        from_status=from_status,
        to_status=to_status,
        source=source,
        evidence=bounded(evidence),
        created_at=now,
    )
    transaction.on_commit(
        lambda: consent_changed.send(
            sender=Subscriber,
            subscriber=subscriber,
            from_status=from_status,
            to_status=to_status,
            source=source,
            address_kind=AddressKind.PHONE,
            signup_source=signup_source,
        )
    )
    return ConsentChange(subscriber, True, from_status, to_status, event, created)


def address_hash(email: str) -> str:
    """The salted hash of an e-mail address, as events keep it (case does not count)."""
    return phone_hash(email.strip().lower())


def _change_email(
    e164: str,
    email: str,
    to_status: str,
    source: str,
    evidence: dict[str, Any],
    *,
    respect_owner_opt_out: bool,
) -> ConsentChange:
    """change() for the subscriber's e-mail address, under the row's lock."""
    address = normalize_email(email) if email else ""
    with transaction.atomic(savepoint=False):
        subscriber = Subscriber.objects.select_for_update().filter(phone=e164).first()
        if subscriber is None:
            refusal = ConsentError("an e-mail address belongs to a subscriber: no such number")
        else:
            refusal = None
            new_address = bool(address) and address.lower() != subscriber.email.lower()
            if not new_address and not subscriber.email:
                refusal = ConsentError("this subscriber has no e-mail address")
            elif new_address and _address_taken(address, subscriber):
                refusal = ConsentError("this e-mail address belongs to another subscriber")
        if refusal is None:
            from_status = "" if new_address else subscriber.email_status
            if from_status == to_status:
                return ConsentChange(subscriber, False, from_status, to_status, None, False)
            if (
                respect_owner_opt_out
                and from_status == ConsentStatus.OPTED_OUT
                and subscriber.email_consent_source in EMAIL_OWNER_SOURCES
            ):
                refusal = OptedOutByEmail(
                    "this address was unsubscribed by its owner: only the owner can subscribe "
                    "it again"
                )
            elif to_status in ALLOWED[from_status]:
                if new_address:
                    subscriber.email = address
                    subscriber.email_undeliverable = False
                    subscriber.email_undeliverable_reason = ""
                return _apply_email(subscriber, from_status, to_status, source, evidence)
            else:
                refusal = ConsentError(
                    f"cannot change e-mail consent from {from_status or 'none'} to {to_status}"
                )
    raise refusal


def _apply_email(
    subscriber: Subscriber, from_status: str, to_status: str, source: str, evidence: dict
) -> ConsentChange:
    subscriber.email_status = to_status
    subscriber.email_consent_source = source
    subscriber.save(update_fields=EMAIL_FIELDS)
    event = ConsentEvent.objects.create(
        subscriber=subscriber,
        phone_hash=phone_hash(subscriber.phone),
        address_kind=AddressKind.EMAIL,
        email_hash=address_hash(subscriber.email),
        from_status=from_status,
        to_status=to_status,
        source=source,
        evidence=bounded(evidence),
    )
    transaction.on_commit(
        lambda: consent_changed.send(
            sender=Subscriber,
            subscriber=subscriber,
            from_status=from_status,
            to_status=to_status,
            source=source,
            address_kind=AddressKind.EMAIL,
        )
    )
    return ConsentChange(subscriber, True, from_status, to_status, event, False)


def _address_taken(address: str, subscriber: Subscriber) -> bool:
    return Subscriber.objects.filter(email__iexact=address).exclude(pk=subscriber.pk).exists()


def normalize_email(email: str) -> str:
    """The address as stored: trimmed, its domain in lower case; raises ConsentError."""
    address = email.strip()
    try:
        validate_email(address)
    except ValidationError as exc:
        raise ConsentError(f"{address[:80]!r} is not an e-mail address") from exc
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def number_confirmation_channel(channel: str) -> str:
    """What the number's own double opt-in confirmation goes by: its channel, or SMS
    when e-mail carries the daily message (the address has its own confirmation)."""
    return Channel.SMS if channel == Channel.EMAIL else channel


def request_optin(
    phone: str,
    source: str,
    evidence: dict[str, Any],
    *,
    channel: str | None = None,
    signup_source: str = "",
) -> ConsentChange:
    """Double opt-in: make the number pending (a confirmation follows).

    A number that is already opted in stays so and nothing is written: asking to
    subscribe again is not a reason to demand a fresh confirmation. A number that
    said STOP from the phone is not texted because someone typed it into a form:
    OptedOutByPhone, and it stays opted out until it texts START or JOIN itself.
    """
    current = Subscriber.objects.filter(phone=normalize(phone)).first()
    if current is not None and current.consent_status == ConsentStatus.OPTED_IN:
        status = current.consent_status
        return ConsentChange(current, False, status, status, None, False)
    return change(
        phone,
        ConsentStatus.PENDING,
        source,
        evidence,
        channel=channel,
        respect_phone_opt_out=True,
        signup_source=signup_source,
    )


def request_email_optin(
    phone: str, email: str, source: str, evidence: dict[str, Any]
) -> ConsentChange:
    """Double opt-in of an e-mail address: pending until its link is followed.

    The subscriber's confirmed address asked for again stays confirmed, nothing
    written; an address its owner unsubscribed raises OptedOutByEmail.
    """
    current = Subscriber.objects.filter(phone=normalize(phone)).first()
    if (
        current is not None
        and current.email.lower() == normalize_email(email).lower()
        and current.email_status == ConsentStatus.OPTED_IN
    ):
        status = current.email_status
        return ConsentChange(current, False, status, status, None, False)
    return change(
        phone, ConsentStatus.PENDING, source, evidence, email=email, respect_phone_opt_out=True
    )


def phone_opt_out_refusal(current: Subscriber | None, to_status: str) -> OptedOutByPhone | None:
    """OptedOutByPhone when to_status would undo an opt-out the phone itself made.

    Sign-ups and imports are held to it (change's respect_phone_opt_out): a form, a
    partner or an old list cannot subscribe a number that texted STOP. An operator
    opting one number back in with written evidence (the admin) and the phone's own
    START can.
    """
    if (
        current is not None
        and to_status != ConsentStatus.OPTED_OUT
        and current.consent_status == ConsentStatus.OPTED_OUT
        and current.consent_source in PHONE_SOURCES
    ):
        return OptedOutByPhone(
            "this number opted out from the phone (STOP): to subscribe again it must text "
            f"START or JOIN {settings.JOIN_KEYWORD} itself"
        )
    return None
