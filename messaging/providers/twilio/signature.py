"""X-Twilio-Signature checking for Twilio's webhooks."""

import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from smsbot.secrets import twilio_credentials
from smsbot.storable import clean_text

log = logging.getLogger(__name__)

View = Callable[[HttpRequest], HttpResponse]


def signed_url(request: HttpRequest) -> str:
    """The URL Twilio signed: the public one, not what the proxy handed Django."""
    return settings.PUBLIC_BASE_URL + request.get_full_path()


def form(request: HttpRequest) -> dict[str, str]:
    """The posted fields (last value of each), storable; 400 for an unreadable body."""
    try:
        data = request.POST
    except MultiPartParserError as exc:
        raise BadRequest("unreadable form body") from exc
    return {clean_text(key): clean_text(value) for key, value in data.items()}


def _tokens() -> list[str]:
    """The auth token and, during a rotation, the other one (TWILIO_AUTH_TOKEN_SECONDARY):
    Twilio signs with whichever is primary at the moment, so both must pass."""
    tokens = [twilio_credentials().auth_token, settings.TWILIO_AUTH_TOKEN_SECONDARY]
    return [token for token in tokens if token]


def _is_valid(request: HttpRequest) -> bool:
    tokens = _tokens()
    if not tokens:
        log.error("TWILIO_AUTH_TOKEN is unset: every Twilio webhook is refused")
        return False
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    try:
        params = request.POST
    except MultiPartParserError:
        return False
    url = signed_url(request)
    return any(RequestValidator(token).validate(url, params, signature) for token in tokens)


def twilio_webhook(view: View) -> View:
    """POST only, CSRF-exempt, and 403 unless Twilio signed the request."""

    @wraps(view)
    def checked(request: HttpRequest) -> HttpResponse:
        if settings.TWILIO_VALIDATE_SIGNATURES and not _is_valid(request):
            # The body may hold a phone number and a message: never logged.
            log.warning("rejected %s: missing or wrong X-Twilio-Signature", request.path)
            return HttpResponseForbidden("invalid Twilio signature")
        return view(request)

    return csrf_exempt(require_POST(checked))
