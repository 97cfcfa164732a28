"""The e-mail address in the admin: the list's column, filters and search, the page's
section, and the operator's two changes to it — adding an address, and stopping
e-mail to it when its owner asks by another way (a call, a letter).

An operator never confirms an address: adding one makes it pending through
consent.request_email_optin (source admin, the operator and their evidence kept),
which sends the confirmation e-mail; only its owner's click opts it in. Stopping
opts the address out through consent.change with the operator's reason, as the
number's Opt out… does; the number's own consent is untouched.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.utils.html import format_html

from smsbot import audit
from subscribers.admin.consent import admin_evidence
from subscribers.consent import ConsentChange, change, request_email_optin
from subscribers.forms import EmailAddressForm, OptOutForm
from subscribers.history import sentence
from subscribers.models import AddressKind, ConsentSource, ConsentStatus, Subscriber

FORM_PREFIX = "email"
STOP_PREFIX = "email-stop"


class HasEmailFilter(admin.SimpleListFilter):
    """Whether a subscriber holds an address: read from the indexed email_status, which
    is set exactly while there is one (consent gives an address its status; erasure
    clears both)."""

    title = "e-mail address"
    parameter_name = "has_email"
    field_name = "email_status"  # the column it reads (indexed)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Has an address"), ("no", "No address")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(email_status__in=ConsentStatus.values)
        if self.value() == "no":
            return queryset.filter(email_status="")
        return queryset


def by_address(queryset: QuerySet, term: str) -> QuerySet:
    """The subscriber holding this address, case aside: the unique index on lower(email)
    (whose condition, email <> '', the query repeats so PostgreSQL can use it)."""
    return queryset.alias(email_lower=Lower("email")).filter(
        ~Q(email=""), email_lower=term.strip().lower()
    )


def email_cell(subscriber: Subscriber) -> str:
    """The list's column: the address, its consent under it, a bounce in warning."""
    if not subscriber.email:
        return ""
    status = subscriber.get_email_status_display() or "no consent"
    if subscriber.email_undeliverable:
        return format_html(
            '{}<br><strong class="subscriber-warning" title="{}">bounced</strong>',
            subscriber.email,
            subscriber.email_undeliverable_reason or "reported by SES",
        )
    return format_html('{}<br><span class="subscriber-quiet">{}</span>', subscriber.email, status)


@dataclass(frozen=True)
class EmailSummary:
    address: str
    status: str
    status_code: str
    undeliverable: str
    # The address's latest consent event as a sentence.
    latest: str
    # The add (or replace) form, for those who may change the subscriber.
    form: EmailAddressForm | None
    button: str
    # Stop e-mail to the address (its owner asked another way), while it may be sent to.
    stop_form: OptOutForm | None


def email_form(data: Any = None) -> EmailAddressForm:
    return EmailAddressForm(data, prefix=FORM_PREFIX)


def stop_form(data: Any = None) -> OptOutForm:
    return OptOutForm(data, prefix=STOP_PREFIX)


def can_stop(subscriber: Subscriber) -> bool:
    return bool(subscriber.email) and subscriber.email_status in (
        ConsentStatus.PENDING,
        ConsentStatus.OPTED_IN,
    )


def cannot_add(subscriber: Subscriber) -> str:
    """Why no address can be added now, "" when one can: e-mail is off without a sender
    (no confirmation could go), a STOP ends every channel, an erased row holds nothing."""
    if not settings.EMAIL_FROM:
        return "e-mail is off (EMAIL_FROM is not set), so no confirmation could be sent"
    if subscriber.erased_at is not None:
        return "the subscriber's personal data was erased"
    if subscriber.consent_status == ConsentStatus.OPTED_OUT:
        return "the number is opted out, which ends every channel"
    return ""


def email_summary(subscriber: Subscriber, can_change: bool) -> EmailSummary:
    latest = (
        subscriber.consent_events.filter(address_kind=AddressKind.EMAIL)
        .order_by("-created_at", "-id")
        .first()
    )
    undeliverable = ""
    if subscriber.email_undeliverable:
        undeliverable = subscriber.email_undeliverable_reason or "reported by SES"
    return EmailSummary(
        address=subscriber.email,
        status=subscriber.get_email_status_display(),
        status_code=subscriber.email_status,
        undeliverable=undeliverable,
        latest=sentence(latest) if latest and subscriber.email else "",
        form=email_form() if can_change and not cannot_add(subscriber) else None,
        button="Replace the address" if subscriber.email else "Add an e-mail address",
        stop_form=stop_form() if can_change and can_stop(subscriber) else None,
    )


def add_email(
    request: HttpRequest, subscriber: Subscriber, answers: dict[str, str]
) -> ConsentChange:
    """Start the double opt-in of the address the operator typed, with their evidence.

    Raises ConsentError when consent rules refuse it (another subscriber's address,
    one its owner unsubscribed).
    """
    before = subscriber.email_status
    replaced = bool(subscriber.email) and subscriber.email.lower() != answers["email"].lower()
    outcome = request_email_optin(
        subscriber.phone,
        answers["email"],
        ConsentSource.ADMIN,
        admin_evidence(request, evidence=answers["evidence"]),
    )
    if outcome.changed:
        # The audit trail keeps no address (erasure could not reach it there): the
        # consent event keeps its hash.
        audit.record(
            request.user,
            outcome.subscriber,
            "E-mail address replaced" if replaced else "E-mail address added",
            changes={"email_status": (before, outcome.to_status)},
            detail=answers["evidence"],
        )
    return outcome


def stop_email(request: HttpRequest, subscriber: Subscriber, reason: str) -> ConsentChange:
    """Opt the address out with the operator's reason; the number keeps its consent."""
    before = subscriber.email_status
    outcome = change(
        subscriber.phone,
        ConsentStatus.OPTED_OUT,
        ConsentSource.ADMIN,
        admin_evidence(request, reason=reason),
        email="",
    )
    if outcome.changed:
        audit.record(
            request.user,
            outcome.subscriber,
            "E-mail stopped",
            changes={"email_status": (before, outcome.to_status)},
            detail=reason,
        )
    return outcome
