"""With TWILIO_CREDENTIALS_FROM_AWS, the provider and the webhooks use the stored secret."""

import json
import logging

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from smsbot import secrets
from smsbot.aws import client
from tests.messaging.providers.conftest import send


@pytest.fixture
def secret_only(aws, twilio_server, settings):
    """The Twilio credentials live only in Secrets Manager, as provision_aws stores them."""
    client("secretsmanager").create_secret(
        Name=secrets.twilio_secret_name(),
        SecretString=json.dumps(
            {"account_sid": twilio_server.account_sid, "auth_token": twilio_server.auth_token}
        ),
    )
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = ""
    settings.TWILIO_CREDENTIALS_FROM_AWS = True
    secrets._twilio_from_secrets_manager.cache_clear()
    yield twilio_server
    secrets._twilio_from_secrets_manager.cache_clear()


@pytest.mark.django_db
def test_provider_sends_with_the_stored_credentials(secret_only, outbound):
    sent = send(outbound())
    assert sent.provider_message_id.startswith("SM")
    assert len(secret_only.requests) == 1


@pytest.mark.django_db
def test_webhook_signatures_check_against_the_stored_token(secret_only, settings, caplog):
    url = settings.PUBLIC_BASE_URL + "/webhooks/twilio/inbound/"
    form = {"MessageSid": "SM" + "a" * 32, "From": "+13125550123", "To": "+13125550100"}
    form["Body"] = "HELP"
    good = RequestValidator(secret_only.auth_token).compute_signature(url, form)
    forged = RequestValidator("not-the-token").compute_signature(url, form)
    web = Client()
    path = "/webhooks/twilio/inbound/"
    assert web.post(path, form, HTTP_X_TWILIO_SIGNATURE=forged).status_code == 403
    assert web.post(path, form, HTTP_X_TWILIO_SIGNATURE=good).status_code == 200
    # Once fetched, the stored token is redacted from logs like a configured one.
    with caplog.at_level(logging.INFO):
        logging.getLogger("smsbot.test").info("token is %s", secret_only.auth_token)
    assert secret_only.auth_token not in caplog.text
