"""Changing consent from the admin: the list's actions and the subscriber page's buttons.

Both record a change the same way: consent.change with the operator's evidence
(who, and the reason or proof they typed), then an audit entry for the
subscriber whose consent changed.
"""

from typing import Any

from django import forms
from django.http import HttpRequest

from smsbot import audit
from subscribers.consent import ALLOWED, change
from subscribers.forms import OptInEvidenceForm, OptOutForm
from subscribers.models import ConsentSource, ConsentStatus, Subscriber

# What an operator may set, the form asking for the evidence, the button, the audit verb.
CONSENT_FORMS: dict[str, type[forms.Form]] = {
    ConsentStatus.OPTED_OUT: OptOutForm,
    ConsentStatus.OPTED_IN: OptInEvidenceForm,
}
BUTTONS = {ConsentStatus.OPTED_OUT: "Opt out", ConsentStatus.OPTED_IN: "Opt back in"}
VERBS = {ConsentStatus.OPTED_OUT: "Opted out", ConsentStatus.OPTED_IN: "Opted back in"}


def admin_evidence(request: HttpRequest, **details: str) -> dict[str, Any]:
    return {"admin_user": request.user.get_username(), "admin_user_id": request.user.pk, **details}


def change_consent(
    request: HttpRequest, subscriber: Subscriber, to_status: str, answers: dict[str, str]
) -> bool:
    """Apply the operator's change with their answers as evidence; False when already so.

    Raises ConsentError for a transition consent rules refuse.
    """
    before = subscriber.consent_status
    outcome = change(
        subscriber.phone, to_status, ConsentSource.ADMIN, admin_evidence(request, **answers)
    )
    if outcome.changed:
        audit.record(
            request.user,
            outcome.subscriber,
            VERBS[to_status],
            changes={"consent_status": (before, to_status)},
            detail="; ".join(answers.values()),
        )
    return outcome.changed


def offered(subscriber: Subscriber) -> list[str]:
    """The consent states an operator may move this subscriber to from its page."""
    if subscriber.erased_at is not None:
        return []
    allowed = ALLOWED[subscriber.consent_status]
    return [status for status in CONSENT_FORMS if status in allowed]
