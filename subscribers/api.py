"""POST /api/optin/: subscribe (double opt-in) or unsubscribe a number over JSON."""

import hmac
import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from subscribers.consent import ConsentChange, ConsentError, change, request_optin
from subscribers.models import Channel, ConsentSource, ConsentStatus
from subscribers.phones import InvalidPhone, normalize
from subscribers.views import client_evidence

MAX_BODY_BYTES = 10 * 1024
ACTIONS = ("subscribe", "unsubscribe")


class BadRequest(ValueError):
    """The request cannot be acted on; str(exc) is the reason given to the caller."""


def authorized(request: HttpRequest) -> bool:
    expected = settings.WEBHOOK_TOKEN
    if not expected:
        return True
    bearer = request.headers.get("Authorization", "")
    given = bearer[7:] if bearer[:7].lower() == "bearer " else ""
    given = given or request.headers.get("X-Webhook-Token", "")
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def parse(request: HttpRequest) -> dict[str, Any]:
    """The validated request: phone (E.164), action, channel, payload."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if (declared.isdigit() and int(declared) > MAX_BODY_BYTES) or len(
        request.body
    ) > MAX_BODY_BYTES:
        raise BadRequest(f"body is larger than {MAX_BODY_BYTES // 1024} KB")
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON: {exc}") from exc
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
    except InvalidPhone as exc:
        raise BadRequest(f"phone: {exc}") from exc
    if action == "subscribe" and payload.get("consent") is not True:
        raise BadRequest("consent must be true to subscribe")
    return {"phone": phone, "action": action, "channel": channel, "payload": payload}


@csrf_exempt
@require_POST
def optin_api(request: HttpRequest) -> JsonResponse:
    if not authorized(request):
        return JsonResponse({"error": "missing or wrong token"}, status=401)
    try:
        data = parse(request)
    except BadRequest as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    evidence = {
        **client_evidence(request),
        # The number is left out: the event links to the subscriber and keeps its hash.
        "payload": {k: v for k, v in data["payload"].items() if k != "phone"},
    }
    try:
        if data["action"] == "subscribe":
            result = request_optin(
                data["phone"], ConsentSource.API, evidence, channel=data["channel"]
            )
        else:
            result = change(
                data["phone"],
                ConsentStatus.OPTED_OUT,
                ConsentSource.API,
                evidence,
                channel=data["channel"],
            )
    except ConsentError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse(_answer(result))


def _answer(result: ConsentChange) -> dict[str, Any]:
    return {
        "status": result.to_status if result.changed else "unchanged",
        "consent_status": result.subscriber.consent_status,
        "phone": result.subscriber.phone,
    }
