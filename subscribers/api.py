"""POST /api/optin/: subscribe (double opt-in) or unsubscribe a number over JSON.

The API is closed (401) unless WEBHOOK_TOKEN is set or OPTIN_API_PUBLIC is
chosen; unsubscribing always needs the token. Anonymous callers are limited
per client IP, everyone per number and per e-mail address. An optional `email`
starts the address's own double opt-in (a confirmation e-mail with a signed link)
beside the number's, in one transaction: a refusal of either changes neither. A
body that could not be stored as it is (NUL, unpaired surrogates, NaN, deep
nesting) is refused with a reason.

The body must be declared application/json. A browser sends another site's
form or a "simple" fetch only as form data or text/plain; JSON needs a CORS
preflight, which the portal never grants. With OPTIN_API_PUBLIC a text/plain
POST from any web page would otherwise sign numbers up from its visitors'
addresses. Browsers also say where a request comes from (Sec-Fetch-Site,
Origin): without the token, one from another site is refused outright.
"""

import hmac
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from smsbot import storable
from smsbot.client_ip import signup_source
from smsbot.storable import clean_data
from subscribers import limits
from subscribers.consent import (
    ConsentChange,
    ConsentError,
    change,
    known_fields,
    normalize_email,
    request_email_optin,
    request_optin,
)
from subscribers.models import Channel, ConsentSource, ConsentStatus
from subscribers.phones import InvalidPhone, check_signup, normalize
from subscribers.views import client_evidence, database_failure

MAX_BODY_BYTES = 10 * 1024
# The documented body is a flat object; partners may add a little structure.
MAX_DEPTH = 8
ACTIONS = ("subscribe", "unsubscribe")
JSON = "application/json"
# Sec-Fetch-Site values of a request a browser did not make for another site: the
# portal's own page, or a person typing the address.
OWN_SITE = ("same-origin", "none")
# What of the body is kept as evidence (with the caller's address and user agent):
# `source` is the partner's own note of where consent was given (text or a little JSON).
# The address itself is not: like the number, its event keeps only its hash.
EVIDENCE_FIELDS = ("consent", "action", "channel", "source")
# RFC 5321's limit on a forward path; EmailField's max_length.
EMAIL_CHARS = 254


class BadRequest(ValueError):
    """The request cannot be acted on; str(exc) is the reason given to the caller."""


class Unauthorized(ValueError):
    """The caller may not do this; str(exc) says what is missing."""


class CrossSite(ValueError):
    """A browser sent the request for another web site; str(exc) says how we know."""


def authenticate(request: HttpRequest) -> bool:
    """True for a caller with the WEBHOOK_TOKEN, False for an anonymous caller of a
    public API; raises Unauthorized otherwise."""
    bearer = request.headers.get("Authorization", "")
    given = bearer[7:] if bearer[:7].lower() == "bearer " else ""
    given = (given or request.headers.get("X-Webhook-Token", "")).strip()
    expected = settings.WEBHOOK_TOKEN
    if given:
        if expected and hmac.compare_digest(given.encode(), expected.encode()):
            return True
        raise Unauthorized("wrong token")
    if settings.OPTIN_API_PUBLIC:
        return False
    if expected:
        raise Unauthorized(
            "missing token: send Authorization: Bearer <token> or X-Webhook-Token: <token>"
        )
    raise Unauthorized(
        "the opt-in API is closed: the operator has set neither WEBHOOK_TOKEN nor "
        "OPTIN_API_PUBLIC=true"
    )


def check_origin(request: HttpRequest) -> None:
    """Raise CrossSite when the browser says another site made this request."""
    fetch_site = request.headers.get("Sec-Fetch-Site", "").strip().lower()
    if fetch_site and fetch_site not in OWN_SITE:
        raise CrossSite(f"Sec-Fetch-Site is {fetch_site[:20]!r}")
    origin = request.headers.get("Origin")
    if origin is not None and origin.strip().lower() not in _own_origins(request):
        raise CrossSite(f"Origin {origin[:100]!r} is not the portal's")


def _own_origins(request: HttpRequest) -> set[str]:
    public = urlsplit(settings.PUBLIC_BASE_URL)
    return {
        f"{public.scheme}://{public.netloc}".lower(),
        f"{request.scheme}://{request.get_host()}".lower(),
    }


def parse(request: HttpRequest) -> dict[str, Any]:
    """The validated request: phone (E.164), action, channel, payload."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if (declared.isdigit() and int(declared) > MAX_BODY_BYTES) or len(
        request.body
    ) > MAX_BODY_BYTES:
        raise BadRequest(f"body is larger than {MAX_BODY_BYTES // 1024} KB")
    payload = load_json(request.body)
    if not isinstance(payload, dict):
        raise BadRequest("malformed JSON: expected an object")
    action = payload.get("action")
    if action not in ACTIONS:
        raise BadRequest(f"unknown action {action!r}: use subscribe or unsubscribe")
    channels = _channels()
    channel = payload.get("channel")
    if channel is not None and channel not in channels:
        raise BadRequest(f"unknown channel {channel!r}: use {' or '.join(channels)}")
    email = parse_email(payload.get("email"), action)
    if channel == Channel.EMAIL and not email:
        raise BadRequest("channel email needs an email address")
    try:
        phone = normalize(str(payload.get("phone") or ""))
        if action == "subscribe":
            check_signup(phone)
    except InvalidPhone as exc:
        raise BadRequest(f"phone: {exc}") from exc
    if action == "subscribe" and payload.get("consent") is not True:
        raise BadRequest("consent must be true to subscribe")
    return {
        "phone": phone,
        "action": action,
        "channel": channel,
        "email": email,
        "payload": payload,
    }


def _channels() -> list[str]:
    # E-mail is off without a sender (EMAIL_FROM), as on the opt-in form.
    return [c for c in Channel.values if c != Channel.EMAIL or settings.EMAIL_FROM]


def parse_email(value: Any, action: str) -> str:
    """The request's e-mail address as stored, "" when none is given; BadRequest otherwise."""
    if value is None or value == "":
        return ""
    if not settings.EMAIL_FROM:
        raise BadRequest("email: this portal does not send e-mail")
    if action != "subscribe":
        raise BadRequest(
            "email is taken only to subscribe: unsubscribing the number ends every channel"
        )
    if not isinstance(value, str):
        raise BadRequest("email: expected a string")
    if len(value) > EMAIL_CHARS:
        raise BadRequest(f"email: longer than {EMAIL_CHARS} characters")
    try:
        return normalize_email(value)
    except ConsentError as exc:
        raise BadRequest(f"email: {exc}") from exc


def load_json(body: bytes) -> Any:
    """The JSON document in body, refused when the database could not store it as sent."""
    try:
        return storable.load_json(body, MAX_DEPTH)
    except storable.NotStorable as exc:
        raise BadRequest(str(exc)) from exc


@csrf_exempt
@require_POST
def optin_api(request: HttpRequest) -> JsonResponse:
    try:
        partner = authenticate(request)
    except Unauthorized as exc:
        return JsonResponse({"error": str(exc)}, status=401)
    if request.content_type.lower() != JSON:
        return JsonResponse({"error": f"send the body as Content-Type: {JSON}"}, status=415)
    if not partner:
        try:
            check_origin(request)
        except CrossSite as exc:
            return JsonResponse(
                {"error": f"sign-ups from another web site need the token ({exc})"},
                status=403,
            )
    # Partners are known by their token; anonymous callers by their address.
    if not partner and (limited := limits.per_client(request)):
        return _too_many(limited)
    try:
        data = parse(request)
    except BadRequest as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    if data["action"] == "unsubscribe" and not partner:
        return JsonResponse(
            {"error": "unsubscribe needs the token (the person can text STOP at any time)"},
            status=401,
        )
    if limited := limits.per_number(request, data["phone"]):
        return _too_many(limited)
    if data["email"] and (limited := limits.per_email(request, data["email"])):
        return _too_many(limited)
    source = signup_source(request)
    # A partner's server signs many people up on purpose: it is known by its token.
    subscribing = data["action"] == "subscribe" and not partner
    if subscribing and (limited := limits.held_per_source(source)):
        return _too_many(limited)
    evidence = clean_data(
        {
            **client_evidence(request),
            # The documented fields only, each bounded; others are dropped. The number
            # is left out: the event links to the subscriber and keeps its hash.
            "payload": known_fields(data["payload"], EVIDENCE_FIELDS),
        }
    )
    try:
        results = _act(data, evidence, source)
    except ConsentError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    except DatabaseError as exc:
        database_failure(request, exc)
        return JsonResponse({"error": "the request could not be stored: try again"}, status=503)
    return JsonResponse(_answer(results))


def _act(
    data: dict[str, Any], evidence: dict[str, Any], source: str
) -> tuple[ConsentChange, ConsentChange | None]:
    """The number's change and the address's (None when no address was given)."""
    if data["action"] == "unsubscribe":
        outcome = change(
            data["phone"],
            ConsentStatus.OPTED_OUT,
            ConsentSource.API,
            evidence,
            channel=data["channel"],
        )
        return outcome, None
    with transaction.atomic():
        outcome = request_optin(
            data["phone"],
            ConsentSource.API,
            evidence,
            channel=data["channel"],
            signup_source=source,
        )
        address = None
        if data["email"]:
            address = request_email_optin(data["phone"], data["email"], ConsentSource.API, evidence)
    return outcome, address


def _too_many(limited: limits.Limited) -> JsonResponse:
    response = JsonResponse({"error": limited.reason}, status=429)
    response["Retry-After"] = str(limited.retry_after)
    return response


def _answer(results: tuple[ConsentChange, ConsentChange | None]) -> dict[str, Any]:
    number, address = results
    answer = {
        "status": number.to_status if number.changed else "unchanged",
        "consent_status": number.subscriber.consent_status,
        "phone": number.subscriber.phone,
    }
    if address is not None:
        answer["email_status"] = address.to_status if address.changed else "unchanged"
    return answer
