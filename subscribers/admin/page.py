"""What the subscriber page shows beside its form: consent and its buttons, the
pause of the daily messages and its buttons, the consent history in words, the
conversation, and the panels other apps add."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from subscribers import hooks
from subscribers.admin.consent import BUTTONS, CONSENT_FORMS, offered
from subscribers.admin.email import email_summary
from subscribers.admin.pausing import pause_buttons
from subscribers.history import HistoryLine, evidence_items, history_line, sentence, when
from subscribers.models import AddressKind, ConsentStatus, Conversation, Subscriber

# Newest events shown on the page; the Consent events list has them all.
HISTORY_LENGTH = 50
FORM_PREFIX = "consent"


class PageContextMixin:
    """A change page with context of its own, for those allowed to see the object."""

    def page_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        return {}

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_view_or_change_permission(request, obj):
            extra_context = {**self.page_context(request, obj), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)


@dataclass(frozen=True)
class ConsentButton:
    to_status: str
    label: str
    form: forms.Form


@dataclass(frozen=True)
class ConsentSummary:
    status: str
    status_code: str
    # The latest consent event as a sentence: how and when the state came about.
    latest: str
    buttons: list[ConsentButton]


def consent_form(to_status: str, data: Any = None) -> forms.Form:
    return CONSENT_FORMS[to_status](data, prefix=FORM_PREFIX)


def consent_summary(subscriber: Subscriber, can_change: bool) -> ConsentSummary:
    latest = (
        subscriber.consent_events.filter(address_kind=AddressKind.PHONE)
        .order_by("-created_at", "-id")
        .first()
    )
    pending = subscriber.consent_status == ConsentStatus.PENDING
    buttons = [
        ConsentButton(
            status,
            "Opt in" if pending and status == ConsentStatus.OPTED_IN else BUTTONS[status],
            consent_form(status),
        )
        for status in (offered(subscriber) if can_change else [])
    ]
    return ConsentSummary(
        status=subscriber.get_consent_status_display(),
        status_code=subscriber.consent_status,
        latest=sentence(latest) if latest else "",
        buttons=buttons,
    )


def consent_history(subscriber: Subscriber) -> list[HistoryLine]:
    events = subscriber.consent_events.order_by("-created_at", "-id")[:HISTORY_LENGTH]
    return [history_line(event) for event in events]


def subscriber_page(
    request: HttpRequest, subscriber: Subscriber, can_change: bool
) -> dict[str, Any]:
    conversation = Conversation.objects.filter(phone_number=subscriber.phone).first()
    panels = hooks.subscriber_panels(request, subscriber)
    history = consent_history(subscriber)
    all_events = ""
    if (
        len(history) == HISTORY_LENGTH
        and subscriber.erased_at is None
        and request.user.has_perm("subscribers.view_consentevent")
    ):
        all_events = (
            reverse("admin:subscribers_consentevent_changelist")
            + "?"
            + urlencode({"q": subscriber.phone})
        )
    return {
        # The number itself, as the list shows it (only logs mask numbers).
        "title": subscriber.phone,
        "subtitle": None,
        "consent": consent_summary(subscriber, can_change),
        "consent_url": reverse("admin:subscribers_subscriber_consent", args=[subscriber.pk]),
        "email_consent": email_summary(subscriber, can_change),
        "email_url": reverse("admin:subscribers_subscriber_email", args=[subscriber.pk]),
        "pause": pause_buttons(subscriber, can_change),
        "pause_url": reverse("admin:subscribers_subscriber_pause", args=[subscriber.pk]),
        "history": history,
        "all_events_url": all_events,
        "conversation": conversation,
        "conversation_context": evidence_items(conversation.user_context)
        if conversation and conversation.user_context
        else [],
        "conversation_updated": when(conversation.updated_at) if conversation else "",
        "panels": panels,
        # "No conversation yet" only when nothing of one is on the page.
        "conversation_empty": conversation is None and not any(p.shown for p in panels),
    }
