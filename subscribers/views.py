"""The public opt-in page: a consent form and a WhatsApp join link."""

from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from subscribers.consent import request_optin
from subscribers.forms import OptInForm
from subscribers.models import ConsentSource


def client_evidence(request: HttpRequest) -> dict[str, str]:
    """Who asked: kept with every opt-in from the web."""
    return {
        "ip": request.META.get(settings.RATELIMIT_IP_META_KEY, ""),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:500],
    }


def whatsapp_join_link() -> str:
    digits = "".join(ch for ch in settings.TWILIO_WHATSAPP_NUMBER if ch.isdigit())
    if not digits:
        return ""
    return f"https://wa.me/{digits}?text={quote(f'JOIN {settings.JOIN_KEYWORD}')}"


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    response = render(request, "subscribers/rate_limited.html", status=429)
    response["Retry-After"] = "60"
    return response


def _optin_rate(group: str, request: HttpRequest) -> str:
    return settings.OPTIN_RATE_LIMIT


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=_optin_rate, method="POST", block=False)
def optin(request: HttpRequest) -> HttpResponse:
    if getattr(request, "limited", False):
        return rate_limited(request)
    form = OptInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        request_optin(
            form.cleaned_data["phone"],
            ConsentSource.WEB_FORM,
            _form_evidence(request, form),
            channel=form.cleaned_data["channel"],
        )
        return redirect("subscribers:optin_thanks")
    context = {
        "form": form,
        "whatsapp_link": whatsapp_join_link(),
        "join_keyword": settings.JOIN_KEYWORD,
    }
    return render(request, "subscribers/optin.html", context)


@require_GET
def optin_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "subscribers/optin_thanks.html")


def _form_evidence(request: HttpRequest, form: OptInForm) -> dict[str, Any]:
    # The number itself is left out of the payload: the event links to the
    # subscriber and keeps a salted hash, so erasing the number erases it everywhere.
    payload = {
        key: value
        for key, value in request.POST.items()
        if key not in ("phone", "csrfmiddlewaretoken")
    }
    return {
        **client_evidence(request),
        "consent_text": settings.OPTIN_CONSENT_TEXT,
        "form": payload,
        "page": request.build_absolute_uri(),
    }
