from django.urls import path

from messaging.providers.ses.webhook import ses
from messaging.providers.sns.webhook import sns
from messaging.providers.twilio.webhooks import twilio_inbound, twilio_status

urlpatterns = [
    path("webhooks/twilio/inbound/", twilio_inbound, name="twilio-inbound"),
    path("webhooks/twilio/status/", twilio_status, name="twilio-status"),
    path("webhooks/sns/", sns, name="sns"),
    path("webhooks/ses/", ses, name="ses"),
]
