"""--with-secrets: the Twilio credentials as one secret, never printed; the portal reads it."""

import json

import pytest

from smsbot import secrets
from smsbot.aws import client
from tests.provisioning.conftest import moto_data, provision, run

SID, TOKEN = "AC" + "1" * 32, "twilio-auth-token-do-not-print"


@pytest.fixture
def twilio(aws, settings):
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = SID, TOKEN
    secrets._twilio_from_secrets_manager.cache_clear()
    yield settings
    secrets._twilio_from_secrets_manager.cache_clear()


def stored() -> dict:
    return json.loads(
        client("secretsmanager").get_secret_value(SecretId="smsbot/twilio")["SecretString"]
    )


def test_needs_the_credentials_in_settings(aws, settings):
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = ""
    assert run("provision_aws", "--with-secrets").error == (
        "secret smsbot/twilio: --with-secrets needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN set"
    )


def test_stores_updates_restores_and_never_prints_the_value(twilio):
    first = provision("--with-secrets")
    assert "create    secret smsbot/twilio" in first.out
    assert stored() == {"account_sid": SID, "auth_token": TOKEN}
    assert "unchanged secret smsbot/twilio" in provision("--with-secrets").out

    twilio.TWILIO_AUTH_TOKEN = "rotated-token-do-not-print"
    [update] = provision("--with-secrets").lines("update")
    assert "secret smsbot/twilio (value: differs from settings → new version)" in update
    assert stored()["auth_token"] == "rotated-token-do-not-print"

    verified = run("verify_aws", "--with-secrets")
    assert "✓ secret smsbot/twilio: exists, holds an account SID and auth token" in verified.out

    teardown = run("teardown_aws", "--yes")
    assert "secret smsbot/twilio: scheduled for deletion in 7 days" in teardown.out
    assert (
        "✗ secret smsbot/twilio: missing or scheduled for deletion"
        in run("verify_aws", "--with-secrets").out
    )

    restored = provision("--with-secrets")
    assert "secret smsbot/twilio (state: scheduled for deletion → restored)" in restored.out
    assert stored()["auth_token"] == "rotated-token-do-not-print"

    for output in (first.out, update, verified.out, teardown.out, restored.out):
        assert TOKEN not in output and "rotated-token" not in output


def test_portal_reads_the_secret_when_settings_lack_the_credentials(twilio):
    provision("--with-secrets")
    twilio.TWILIO_ACCOUNT_SID = twilio.TWILIO_AUTH_TOKEN = ""
    twilio.TWILIO_CREDENTIALS_FROM_AWS = True
    assert secrets.twilio_credentials() == secrets.TwilioCredentials(SID, TOKEN)


def test_settings_win_and_missing_secret_means_not_configured(twilio):
    twilio.TWILIO_CREDENTIALS_FROM_AWS = True
    assert secrets.twilio_credentials() == secrets.TwilioCredentials(SID, TOKEN)
    twilio.TWILIO_ACCOUNT_SID = twilio.TWILIO_AUTH_TOKEN = ""
    assert not secrets.twilio_credentials()


def test_verify_sends_a_test_sms(aws, sns_sandbox):
    # An account out of the SNS sandbox: in it, a Publish to an unverified number is refused.
    sns_sandbox.in_sandbox = False
    provision()
    result = run("verify_aws", "--test-number", "(312) 555-0123")
    assert result.error is None
    [line] = [line for line in result.out.splitlines() if "test SMS" in line]
    assert line.startswith("✓ test SMS to +1******0123: accepted by SNS, message id ")
    [sms] = moto_data(aws)["sns"]["SMS"]
    assert sms["phone_number"] == "+13125550123"
    assert sms["message_id"] == line.rsplit(" ", 1)[1]


def test_verify_rejects_a_bad_test_number(aws):
    result = run("verify_aws", "--test-number", "12")
    assert result.error.startswith("--test-number: ")
    assert result.out == ""
