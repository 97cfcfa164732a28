"""Twilio retries can arrive while the first delivery is still being handled."""

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import requests
from twilio.request_validator import RequestValidator

from messaging.models import Message
from subscribers.models import ConsentEvent, Subscriber
from tests.messaging.webhooks.conftest import AUTH_TOKEN, FORM, new_sid

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_twilio(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_VALIDATE_SIGNATURES = True

    def post(params: dict[str, str]) -> requests.Response:
        url = f"{live_server.url}/webhooks/twilio/inbound/"
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "Content-Type": FORM}
        return requests.post(url, data=urlencode(params), headers=headers, timeout=30)

    return post


@pytest.mark.usefixtures("portal_answers")  # the answer is recorded once too
def test_simultaneous_deliveries_of_one_message_act_once(live_twilio):
    params = {"MessageSid": new_sid(), "From": "+13125550123", "To": "+13125550100", "Body": "STOP"}
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(live_twilio, [params] * 4))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert Message.objects.filter(direction="inbound").count() == 1
    assert Message.objects.filter(direction="outbound").count() == 1
    assert ConsentEvent.objects.count() == 1
    assert Subscriber.objects.get().consent_status == "opted_out"
