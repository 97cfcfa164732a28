"""The SNS HTTP(S) subscription endpoint of the portal's inbound topic: two-way SMS."""

import json
import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from messaging.inbound.pipeline import InvalidInbound
from messaging.providers.sns import notifications as sns_notifications
from messaging.providers.sns.verification import SMS_TOPICS, SNSVerificationError, verify

log = logging.getLogger(__name__)


def verified_envelope(request: HttpRequest, expect: tuple[str, ...]) -> dict | HttpResponse:
    """The request's SNS envelope, signed by SNS for one of the topics expect; or the
    answer refusing it (400 for a body that is not a JSON object, 403 otherwise). Every
    SNS subscription endpoint of the portal starts here."""
    try:
        envelope = json.loads(request.body)
    except (ValueError, RecursionError):
        return HttpResponseBadRequest("body is not JSON")
    if not isinstance(envelope, dict):
        return HttpResponseBadRequest("body is not a JSON object")
    try:
        verify(envelope, expect)
    except SNSVerificationError as exc:
        log.warning("rejected an SNS message for %s: %s", request.path, exc)
        return HttpResponseForbidden("invalid SNS message")
    return envelope


@csrf_exempt
@require_POST
def sns(request: HttpRequest) -> HttpResponse:
    envelope = verified_envelope(request, SMS_TOPICS)
    if isinstance(envelope, HttpResponse):
        return envelope
    try:
        sns_notifications.handle(envelope)
    except InvalidInbound as exc:
        return HttpResponseBadRequest(str(exc))
    return HttpResponse("OK")
