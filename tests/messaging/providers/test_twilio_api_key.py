"""REST calls with an API key (TWILIO_API_KEY_SID / TWILIO_API_KEY_SECRET), as Twilio
recommends, so that the auth token can rotate; the secret stays out of every record."""

import json
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from messaging.models import MessageKind
from messaging.providers.base import ErrorKind
from smsbot.logging import RedactingFilter
from smsbot.redaction import redact_data
from tests.messaging.providers.conftest import refusal, send


def test_without_an_api_key_the_account_sid_and_token_are_used(twilio_server, outbound):
    send(outbound())
    [request] = twilio_server.requests
    assert request.authorized and request.user == twilio_server.account_sid


def test_with_an_api_key_rest_calls_use_it(twilio_server, outbound, settings):
    for name, value in twilio_server.api_key_settings().items():
        setattr(settings, name, value)
    sent = send(outbound())
    [request] = twilio_server.requests
    assert request.authorized and request.user == twilio_server.api_key_sid
    # The URL still names the account; the auth token went nowhere.
    assert request.path == f"/2010-04-01/Accounts/{twilio_server.account_sid}/Messages.json"
    records = json.dumps([sent.request, sent.response])
    assert twilio_server.api_key_secret not in records
    assert twilio_server.auth_token not in records


def test_the_api_key_keeps_working_when_the_auth_token_changes(twilio_server, outbound, settings):
    for name, value in twilio_server.api_key_settings().items():
        setattr(settings, name, value)
    settings.TWILIO_AUTH_TOKEN = "the-new-token-after-a-rotation-0123"
    send(outbound())
    assert twilio_server.requests[-1].authorized


def test_a_wrong_api_key_secret_is_a_configuration_error(twilio_server, outbound, settings):
    settings.TWILIO_API_KEY_SID = twilio_server.api_key_sid
    settings.TWILIO_API_KEY_SECRET = "not-the-secret-0123456789"
    error = refusal(outbound())
    assert (error.kind, error.code) == (ErrorKind.CONFIG, "20003")
    assert "not-the-secret-0123456789" not in json.dumps([error.request, error.response])


def test_an_api_key_without_its_secret_falls_back_and_deploy_checks_warn(
    twilio_server, outbound, settings
):
    settings.TWILIO_API_KEY_SID = twilio_server.api_key_sid
    settings.TWILIO_API_KEY_SECRET = ""
    send(outbound(kind=MessageKind.REPLY))
    assert twilio_server.requests[-1].user == twilio_server.account_sid
    with pytest.raises(SystemCheckError, match="TWILIO_API_KEY_SECRET is unset"):
        call_command("check", "--deploy", "--fail-level", "WARNING")
    settings.TWILIO_API_KEY_SECRET = twilio_server.api_key_secret
    try:
        call_command("check", "--deploy", "--fail-level", "WARNING")
    except SystemCheckError as failed:
        assert "TWILIO_API_KEY" not in str(failed)


def test_the_new_secrets_are_redacted_from_log_lines_and_records(settings):
    settings.TWILIO_API_KEY_SECRET = "api-key-secret-abcdef0123"
    settings.TWILIO_AUTH_TOKEN_SECONDARY = "secondary-token-abcdef0123"
    expected = "calling with [redacted] and [redacted]"
    record = logging.LogRecord(
        "smsbot.test", logging.INFO, __file__, 1, "calling with %s and %s",
        ("api-key-secret-abcdef0123", "secondary-token-abcdef0123"), None,
    )  # fmt: skip
    assert RedactingFilter().filter(record) and record.getMessage() == expected
    line = "calling with api-key-secret-abcdef0123 and secondary-token-abcdef0123"
    assert redact_data({"note": line}) == {"note": expected}
