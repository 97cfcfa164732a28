"""POST /api/optin/: subscribe (double opt-in) or unsubscribe a number over JSON.

The API is closed (401) unless WEBHOOK_TOKEN is set or OPTIN_API_PUBLIC is
chosen; unsubscribing always needs the token. Anonymous callers are limited
per client IP, everyone per number. A body that could not be stored as it is
(NUL, unpaired surrogates, NaN, deep nesting) is refused with a reason.
"""

import hmac
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from smsbot import storable
from smsbot.storable import clean_data
from subscribers import limits
from subscribers.consent import ConsentChange, ConsentError, change, request_optin
from subscribers.models import Channel, ConsentSource, ConsentStatus
from subscribers.phones import InvalidPhone, check_signup, normalize
from subscribers.views import client_evidence, database_failure

MAX_BODY_BYTES = 10 * 1024
# The documented body is a flat object; partners may add a little structure.
MAX_DEPTH = 8
ACTIONS = ("subscribe", "unsubscribe")


class BadRequest(ValueError):
    """The request cannot be acted on; str(exc) is the reason given to the caller."""


class Unauthorized(ValueError):
    """The caller may not do this; str(exc) says what is missing."""


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
    channel = payload.get("channel")
    if channel is not None and channel not in Channel.values:
        raise BadRequest(f"unknown channel {channel!r}: use sms or whatsapp")
    try:
        phone = normalize(str(payload.get("phone") or ""))
        if action == "subscribe":
            check_signup(phone)
    except InvalidPhone as exc:
        raise BadRequest(f"phone: {exc}") from exc
    if action == "subscribe" and payload.get("consent") is not True:
        raise BadRequest("consent must be true to subscribe")
    return {"phone": phone, "action": action, "channel": channel, "payload": payload}


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
    evidence = clean_data(
        {
            **client_evidence(request),
            # The number is left out: the event links to the subscriber and keeps its hash.
            "payload": {k: v for k, v in data["payload"].items() if k != "phone"},
        }
    )
    try:
        result = _act(data, evidence)
    except ConsentError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    except DatabaseError as exc:
        database_failure(request, exc)
        return JsonResponse({"error": "the request could not be stored: try again"}, status=503)
    return JsonResponse(_answer(result))


def _act(data: dict[str, Any], evidence: dict[str, Any]) -> ConsentChange:
    if data["action"] == "subscribe":
        return request_optin(data["phone"], ConsentSource.API, evidence, channel=data["channel"])
    return change(
        data["phone"], ConsentStatus.OPTED_OUT, ConsentSource.API, evidence, channel=data["channel"]
    )


def _too_many(limited: limits.Limited) -> JsonResponse:
    response = JsonResponse({"error": limited.reason}, status=429)
    response["Retry-After"] = str(limited.retry_after)
    return response


def _answer(result: ConsentChange) -> dict[str, Any]:
    return {
        "status": result.to_status if result.changed else "unchanged",
        "consent_status": result.subscriber.consent_status,
        "phone": result.subscriber.phone,
    }
