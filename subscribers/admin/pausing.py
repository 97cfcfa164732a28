"""Pausing and resuming a subscriber's daily messages from the admin: the list's
actions and the subscriber page's buttons.

Both record it the same way: delivery_window.pause / delivery_window.resume with the operator's
evidence (who, and the reason they typed), then an audit entry for the subscriber.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from smsbot import audit
from subscribers import delivery_window
from subscribers.admin.consent import admin_evidence
from subscribers.forms import PauseForm
from subscribers.models import ConsentSource, ConsentStatus, Subscriber

FORM_PREFIX = "pause"


def pause_subscriber(
    request: HttpRequest, subscriber: Subscriber, form: dict[str, Any]
) -> date | None:
    """Pause for the form's days (the keyword's PAUSE N) or until its restart date (the
    subscriber's local date); the restart date, or None when already so."""
    days, reason = form.get("days"), form["reason"]
    restart = form.get("restart") or delivery_window.restart_after(subscriber, days, timezone.now())
    extra = {"days": days} if days else {}
    evidence = admin_evidence(request, reason=reason, restart=restart.isoformat(), **extra)
    result = delivery_window.pause(subscriber, restart, ConsentSource.ADMIN, evidence)
    if result.changed:
        audit.record(
            request.user,
            result.subscriber,
            "Paused",
            changes={"messages start again": (result.event.before, result.event.after)},
            detail=reason,
        )
    return restart if result.changed else None


def resume_subscriber(request: HttpRequest, subscriber: Subscriber) -> bool:
    """End a pause now; False when the subscriber was not paused."""
    result = delivery_window.resume(subscriber, ConsentSource.ADMIN, admin_evidence(request))
    if result.changed:
        audit.record(
            request.user,
            result.subscriber,
            "Resumed",
            changes={"messages start again": (result.event.before, "now")},
        )
    return result.changed


def restart_words(subscriber: Subscriber) -> str:
    """When a paused subscriber's messages start again, on their own calendar."""
    zone = subscriber.timezone or settings.DAILY_SEND_TIMEZONE
    restart = delivery_window.restart_day(subscriber, subscriber.paused_until)
    return f"messages start again on {restart} ({zone})"


def pause_state(subscriber: Subscriber) -> str:
    if not delivery_window.is_paused(subscriber, timezone.now()):
        return "No"
    return f"Yes: {restart_words(subscriber)}"


@dataclass(frozen=True)
class PauseButtons:
    # A sentence: paused until when, or not; empty for someone not getting messages.
    state: str
    # None where the button is not offered.
    pause_form: forms.Form | None
    can_resume: bool


def pause_buttons(subscriber: Subscriber, can_change: bool) -> PauseButtons:
    """What the page offers: a pause for someone who gets the daily message, a resume
    for someone paused."""
    live = can_change and subscriber.erased_at is None
    paused = delivery_window.is_paused(subscriber, timezone.now())
    opted_in = subscriber.consent_status == ConsentStatus.OPTED_IN
    state = "Daily messages: not paused." if opted_in else ""
    if paused:
        state = f"Daily messages paused: {restart_words(subscriber)}."
    return PauseButtons(
        state=state,
        pause_form=pause_form() if live and opted_in else None,
        can_resume=live and paused,
    )


def pause_form(data: object = None) -> PauseForm:
    return PauseForm(data, prefix=FORM_PREFIX)
