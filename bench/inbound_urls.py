"""The portal's URLs plus a floor for the inbound bench.

The floor is the least any correct inbound webhook does: check Twilio's
signature, store the message once (its own transaction, committed) and answer
with empty TwiML. No keyword, no consent, no conversation, no reply. The
bench measures it beside the real webhook, so the gap between the trivial
view and the floor (what one durable write costs here) is told apart from
what the pipeline itself adds.
"""

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path

from bench.bench_inbound import FLOOR
from messaging.models import Direction, Message, MessageKind, MessageStatus, Provider
from messaging.providers.twilio.signature import form, twilio_webhook
from messaging.providers.twilio.webhooks import twiml
from smsbot.urls import urlpatterns as portal


@twilio_webhook
def floor(request: HttpRequest) -> HttpResponse:
    data = form(request)
    with transaction.atomic():
        Message.objects.create(
            direction=Direction.INBOUND,
            kind=MessageKind.INBOUND,
            channel="sms",
            provider=Provider.TWILIO,
            phone=data["From"],
            body=data["Body"],
            status=MessageStatus.RECEIVED,
            provider_message_id=data["MessageSid"],
        )
    return twiml("")


urlpatterns = [path(FLOOR.strip("/") + "/", floor), *portal]
