from django.urls import path

from messaging.webhooks.sns import sns
from messaging.webhooks.twilio import twilio_inbound, twilio_status

urlpatterns = [
    path("webhooks/twilio/inbound/", twilio_inbound, name="twilio-inbound"),
    path("webhooks/twilio/status/", twilio_status, name="twilio-status"),
    path("webhooks/sns/", sns, name="sns"),
]
