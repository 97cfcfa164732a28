"""The public opt-in page: a consent form and a WhatsApp join link."""

import logging
from datetime import time
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from smsbot.client_ip import client_ip, signup_source
from smsbot.redaction import mask_phone
from smsbot.storable import clean_data
from subscribers import delivery_window, limits
from subscribers.consent import (
    ConsentError,
    OptedOutByPhone,
    known_fields,
    request_email_optin,
    request_optin,
)
from subscribers.forms import OptInForm
from subscribers.models import ConsentSource, ConsentStatus, Subscriber

log = logging.getLogger(__name__)

# The page's address, query string included (a campaign's tags), up to this length.
PAGE_CHARS = 2000
NUL_REFUSED = (
    "The form arrived with a character no phone number or answer contains (NUL), so "
    "nothing was stored. Please type the number again."
)


def client_evidence(request: HttpRequest) -> dict[str, str]:
    """Who asked: kept with every opt-in from the web."""
    return {
        "ip": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:500],
    }


def database_failure(request: HttpRequest, exc: DatabaseError) -> None:
    """Log a refused write without its text: the database's message can quote the row
    (the number, the evidence) and the log must not carry them."""
    sqlstate = getattr(exc.__cause__, "sqlstate", None) or "unknown"
    log.error(
        "%s %s: database error %s (SQLSTATE %s); the request was not stored",
        request.method,
        request.path,
        type(exc).__name__,
        sqlstate,
    )


def whatsapp_join_link() -> str:
    digits = "".join(ch for ch in settings.TWILIO_WHATSAPP_NUMBER if ch.isdigit())
    if not digits:
        return ""
    return f"https://wa.me/{digits}?text={quote(f'JOIN {settings.JOIN_KEYWORD}')}"


def problem(request: HttpRequest, title: str, text: str, status: int) -> HttpResponse:
    return render(
        request, "subscribers/problem.html", {"title": title, "text": text}, status=status
    )


def rate_limited(request: HttpRequest, limited: limits.Limited) -> HttpResponse:
    response = problem(request, "Too many attempts", limited.reason.capitalize() + ".", 429)
    response["Retry-After"] = str(limited.retry_after)
    return response


@require_http_methods(["GET", "POST"])
def optin(request: HttpRequest) -> HttpResponse:
    form = None
    refusal = ""
    if request.method == "POST":
        if limited := limits.per_client(request):
            return rate_limited(request, limited)
        if _contains_nul(request.POST):
            refusal = NUL_REFUSED
        else:
            form = OptInForm(request.POST)
            if form.is_valid():
                return _sign_up(request, form)
    context = {
        # Built once: a form asks the schedule whether to offer a preferred time.
        "form": form or OptInForm(),
        "refusal": refusal,
        "whatsapp_link": whatsapp_join_link(),
        "join_keyword": settings.JOIN_KEYWORD,
    }
    return render(request, "subscribers/optin.html", context, status=400 if refusal else 200)


def _sign_up(request: HttpRequest, form: OptInForm) -> HttpResponse:
    phone = form.cleaned_data["phone"]
    if limited := limits.per_number(request, phone):
        return rate_limited(request, limited)
    address = form.cleaned_data.get("email")
    if address and (limited := limits.per_email(request, address)):
        return rate_limited(request, limited)
    source = signup_source(request)
    if limited := limits.held_per_source(source):
        return rate_limited(request, limited)
    evidence = _form_evidence(request, form)
    try:
        with transaction.atomic():
            outcome = request_optin(
                phone,
                ConsentSource.WEB_FORM,
                evidence,
                channel=form.cleaned_data["channel"],
                signup_source=source,
            )
            _set_preferred_time(
                outcome.subscriber, form.cleaned_data.get("preferred_time"), evidence
            )
            if form.cleaned_data.get("email"):
                _request_email(phone, form.cleaned_data["email"], evidence)
    except OptedOutByPhone:
        # Answered like any sign-up, so the form tells no one that this number said
        # STOP; the thanks page says how such a number subscribes again.
        log.info("web sign-up of %s refused: it opted out from the phone", mask_phone(phone))
    except DatabaseError as exc:
        database_failure(request, exc)
        return problem(
            request,
            "Please try again",
            "Your sign-up could not be saved just now. Please try again in a few minutes.",
            503,
        )
    return redirect("subscribers:optin_thanks")


def _request_email(phone: str, email: str, evidence: dict[str, Any]) -> None:
    """The address typed on the form, pending until its confirmation link is followed.

    Answered like any sign-up when it cannot be (unsubscribed by its owner, another
    subscriber's): the form tells no one whose address it is.
    """
    try:
        with transaction.atomic():
            request_email_optin(phone, email, ConsentSource.WEB_FORM, evidence)
    except ConsentError as exc:
        log.info("web sign-up's e-mail address for %s not taken: %s", mask_phone(phone), exc)


def _set_preferred_time(subscriber: Subscriber, clock: time | None, evidence: dict) -> None:
    """The time asked for on the form, for a sign-up still to be confirmed by its phone.

    A subscriber who already confirmed keeps their time: the form proves nothing
    about who typed the number.
    """
    if clock is not None and subscriber.consent_status == ConsentStatus.PENDING:
        delivery_window.set_preferred_time(subscriber, clock, ConsentSource.WEB_FORM, evidence)


@require_GET
def optin_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "subscribers/optin_thanks.html", {"join_keyword": settings.JOIN_KEYWORD})


def _contains_nul(data: QueryDict) -> bool:
    return any("\x00" in key or any("\x00" in v for v in data.getlist(key)) for key in data)


def _form_evidence(request: HttpRequest, form: OptInForm) -> dict[str, Any]:
    # The number itself is left out of the payload: the event links to the
    # subscriber and keeps a salted hash, so erasing the number erases it everywhere.
    # Only the form's own fields, each bounded: anything else a client adds is dropped.
    # The address, like the number, is kept only as its hash (the e-mail's own event).
    payload = known_fields(
        request.POST, [name for name in form.fields if name not in ("phone", "email")]
    )
    return clean_data(
        {
            **client_evidence(request),
            "consent_text": settings.OPTIN_CONSENT_TEXT,
            "form": payload,
            "page": request.build_absolute_uri()[:PAGE_CHARS],
        }
    )
