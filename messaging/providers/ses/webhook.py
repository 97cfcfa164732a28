"""/webhooks/ses/: the SNS subscription of the SES feedback topic.

Verified exactly as /webhooks/sns/ (messaging.providers.sns.verification), but
only for the portal's own feedback topic: a message of the inbound topic, or of
anyone else's, is refused with 403.
"""

import json

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from messaging.providers.ses import feedback
from messaging.providers.sns import notifications as sns_notifications
from messaging.providers.sns.webhook import verified_envelope
from smsbot.aws_names import SES_FEEDBACK_TOPIC


@csrf_exempt
@require_POST
def ses(request: HttpRequest) -> HttpResponse:
    envelope = verified_envelope(request, (SES_FEEDBACK_TOPIC,))
    if isinstance(envelope, HttpResponse):
        return envelope
    if envelope.get("Type") != "Notification":
        sns_notifications.handle(envelope)  # confirms the subscription
        return HttpResponse("OK")
    try:
        event = json.loads(envelope["Message"])
        if not isinstance(event, dict):
            raise feedback.InvalidFeedback("Message is not a JSON object")
        feedback.apply(str(envelope.get("MessageId", "")), event)
    except (ValueError, RecursionError, AttributeError) as exc:
        return HttpResponseBadRequest(f"not an SES notification: {str(exc)[:200]}")
    return HttpResponse("OK")
