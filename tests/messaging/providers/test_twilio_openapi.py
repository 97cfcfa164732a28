"""Every request the portal makes to Twilio conforms to Twilio's OpenAPI definitions."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from messaging.models import DailyContent, MessageStatus
from messaging.providers.twilio import prices
from tests.fakes.twilio_oai import OPERATIONS, violations
from tests.fakes.twilio_server import RecordedRequest
from tests.messaging.providers.conftest import send

pytestmark = pytest.mark.django_db
SERVICE = "MG" + "3" * 32
TEMPLATE = "HX" + "4" * 32


def test_every_request_the_portal_makes_conforms(twilio_server, outbound, settings):
    cache.clear()
    settings.TWILIO_PRICE_FETCH_AFTER_SECONDS = 0
    settings.TWILIO_PRICE_FETCH_RATE = 1000
    settings.OPTIN_ALLOWED_COUNTRIES = ["US"]
    account = twilio_server.account
    account.sms_prices["US"] = "0.0083"
    account.services[SERVICE] = {"inbound_request_url": "http://x.test/"}
    account.campaigns[SERVICE] = "VERIFIED"
    account.templates[TEMPLATE] = ("approved", "UTILITY")
    DailyContent.objects.create(
        date=timezone.localdate() + timedelta(days=1), text="t", whatsapp_content_sid=TEMPLATE
    )

    # Sends: SMS from a number and from a Messaging Service, WhatsApp as a template.
    sms = outbound()
    sid = send(sms).provider_message_id
    settings.TWILIO_MESSAGING_SERVICE_SID = SERVICE
    send(outbound("+13125550124"))
    send(outbound("+13125550125", channel="whatsapp", body="", content_sid=TEMPLATE))
    # The actual price, once the message is final.
    twilio_server.finish(sid)
    sms.__class__.objects.filter(pk=sms.pk).update(
        status=MessageStatus.DELIVERED, provider_message_id=sid, sent_at=timezone.now()
    )
    assert prices.fetch_due().priced == 1
    # verify_twilio with a Messaging Service, then with a toll-free number.
    with pytest.raises(CommandError):
        call_command("verify_twilio")  # the service's webhook is elsewhere
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_SMS_FROM = "+18005550100"
    account.tollfree[account.add_number("+18005550100", sms_url="x")] = "TWILIO_APPROVED"
    with pytest.raises(CommandError):
        call_command("verify_twilio")
    call_command("refresh_twilio_prices")

    made = twilio_server.requests
    assert violations(made) == []
    assert {(r.method, _template(r)) for r in made} == set(OPERATIONS)


def _template(request: RecordedRequest) -> str:
    from tests.fakes.twilio_oai import operation_for

    found = operation_for(request.method, request.path)
    return found[0]["path"] if found else request.path


def test_the_check_finds_what_twilio_would_refuse():
    bad = [
        RecordedRequest("POST", "/2010-04-01/Accounts/AC1/Messages.json", {}, {"Bodyy": "x"}, True),
        RecordedRequest("GET", "/v1/Tollfree/Verifications", {}, {}, True, {"Nope": "1"}),
        RecordedRequest("GET", "/v1/Content/HX1/Approvals", {}, {}, True),
    ]
    found = violations(bad)
    assert any("AccountSid='AC1'" in v for v in found)
    assert any("required field To is missing" in v for v in found)
    assert any("form field Bodyy is not defined" in v for v in found)
    assert any("query parameter Nope is not defined" in v for v in found)
    assert any("not an operation" in v for v in found)
