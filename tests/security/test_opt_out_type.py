"""Hostile OptOutType values on Twilio's inbound webhook.

OptOutType changes consent without the portal recognising the body, so it is trusted
only where Twilio sends it: a signed request, on SMS, naming STOP, START or HELP.
Anything else is ignored (the body is read as usual), never a 5xx, and nothing stored
is lost.
"""

import pytest

from messaging.models import Message
from subscribers.consent import change
from subscribers.models import ConsentEvent, Subscriber
from tests.messaging.webhooks.conftest import new_sid

PHONE = "+13125550123"
INBOUND = "/webhooks/twilio/inbound/"
pytestmark = pytest.mark.django_db


def params(body: str, opt_out_type: str, sender: str = PHONE) -> dict[str, str]:
    to = ("whatsapp:" if sender.startswith("whatsapp:") else "") + "+13125550100"
    return {"MessageSid": new_sid(), "From": sender, "To": to, "Body": body,
            "OptOutType": opt_out_type}  # fmt: skip


def still_opted_in() -> bool:
    return Subscriber.objects.get(phone=PHONE).consent_status == "opted_in"


def test_an_unsigned_opt_out_type_is_refused(probe, twilio):
    change(PHONE, "opted_in", "web_form", {"form": "signup"})
    for value in ("STOP", "START", "HELP"):
        probe.attack(twilio.post(INBOUND, params("hello", value), signature=""))
    forged = params("hello", "STOP")
    signature = twilio.signature(INBOUND, forged, token="a-guessed-token-0123")
    probe.attack(twilio.post(INBOUND, forged, signature=signature))
    assert still_opted_in() and not Message.objects.exists()


@pytest.mark.parametrize(
    "value",
    ["STOPPED", "DROP TABLE subscribers", "S" * 5000, "stop", " STOP", "STOP\u200b", "0"],
)
def test_an_unknown_opt_out_type_changes_nothing(probe, twilio, value):
    change(PHONE, "opted_in", "web_form", {"form": "signup"})
    response = twilio.post(INBOUND, params("good morning", value))
    probe.attack(response, refused=response.status_code == 200 and still_opted_in())
    assert ConsentEvent.objects.count() == 1
    assert Message.objects.get(direction="inbound").body == "good morning"


def test_opt_out_type_on_whatsapp_is_not_twilios_and_is_ignored(probe, twilio):
    # Twilio has no opt-out handling on WhatsApp: a STOP type there is not its word.
    change(PHONE, "opted_in", "web_form", {"form": "signup"}, channel="whatsapp")
    response = twilio.post(INBOUND, params("hello", "STOP", sender=f"whatsapp:{PHONE}"))
    probe.attack(response, refused=response.status_code == 200 and still_opted_in())
