"""Rotating the auth token without downtime: while TWILIO_AUTH_TOKEN_SECONDARY is set,
a webhook signed with either token passes; anything else is 403."""

import pytest

from messaging.models import Message
from subscribers.models import Subscriber
from tests.messaging.webhooks.conftest import AUTH_TOKEN, OUR_NUMBER, new_sid

SECONDARY = "the-secondary-auth-token-0123456789"
INBOUND = "/webhooks/twilio/inbound/"
STATUS = "/webhooks/twilio/status/"
pytestmark = pytest.mark.django_db


def inbound(body: str = "STOP") -> dict[str, str]:
    return {"MessageSid": new_sid(), "From": "+13125550123", "To": OUR_NUMBER, "Body": body}


def post_signed(twilio, path: str, params: dict[str, str], token: str):
    return twilio.post(path, params, signature=twilio.signature(path, params, token=token))


def test_during_a_rotation_both_tokens_sign(twilio, settings):
    settings.TWILIO_AUTH_TOKEN_SECONDARY = SECONDARY
    assert post_signed(twilio, INBOUND, inbound(), AUTH_TOKEN).status_code == 200
    assert post_signed(twilio, INBOUND, inbound(), SECONDARY).status_code == 200
    status = {"MessageSid": new_sid(), "MessageStatus": "delivered", "To": "+13125550123"}
    assert post_signed(twilio, STATUS, status, SECONDARY).status_code == 204
    assert Message.objects.filter(direction="inbound").count() == 2


def test_a_wrong_token_is_refused_during_a_rotation(twilio, settings):
    settings.TWILIO_AUTH_TOKEN_SECONDARY = SECONDARY
    assert post_signed(twilio, INBOUND, inbound(), "a-wrong-token-0123456789").status_code == 403
    assert not Subscriber.objects.exists() and not Message.objects.exists()


def test_the_secondary_token_signs_nothing_once_unset(twilio, settings):
    assert post_signed(twilio, INBOUND, inbound(), SECONDARY).status_code == 403
    assert not Message.objects.exists()


def test_after_the_swap_the_old_primary_signs_while_it_is_the_secondary(twilio, settings):
    # Promoted in Twilio's console: the new token is primary, the old one secondary.
    settings.TWILIO_AUTH_TOKEN, settings.TWILIO_AUTH_TOKEN_SECONDARY = SECONDARY, AUTH_TOKEN
    assert post_signed(twilio, INBOUND, inbound(), SECONDARY).status_code == 200
    assert post_signed(twilio, INBOUND, inbound(), AUTH_TOKEN).status_code == 200
    settings.TWILIO_AUTH_TOKEN_SECONDARY = ""  # the old token deleted: it signs no more
    assert post_signed(twilio, INBOUND, inbound(), AUTH_TOKEN).status_code == 403
    assert post_signed(twilio, INBOUND, inbound(), SECONDARY).status_code == 200
