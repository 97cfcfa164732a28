"""The SNS HTTP(S) subscription endpoint of the portal's inbound topic: two-way SMS."""

import json
import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from messaging.inbound.pipeline import InvalidInbound
from messaging.providers.sns import notifications as sns_notifications
from messaging.providers.sns.verification import SNSVerificationError, verify

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def sns(request: HttpRequest) -> HttpResponse:
    try:
        envelope = json.loads(request.body)
    except (ValueError, RecursionError):
        return HttpResponseBadRequest("body is not JSON")
    if not isinstance(envelope, dict):
        return HttpResponseBadRequest("body is not a JSON object")
    try:
        verify(envelope)
    except SNSVerificationError as exc:
        log.warning("rejected an SNS message: %s", exc)
        return HttpResponseForbidden("invalid SNS message")
    try:
        sns_notifications.handle(envelope)
    except InvalidInbound as exc:
        return HttpResponseBadRequest(str(exc))
    return HttpResponse("OK")
