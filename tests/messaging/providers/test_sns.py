"""The SNS provider over HTTP: moto's server, behind a proxy that can inject faults."""

import json
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
import requests

from messaging.delivery.error_codes import Action, describe
from messaging.providers.base import ErrorKind
from tests.conftest import free_port
from tests.fakes.faulty_proxy import AWS_QUERY_ERROR, FaultyProxy
from tests.messaging.providers.conftest import refusal, send

PHONE = "+13125550123"


@pytest.fixture
def proxy(aws, settings) -> Iterator[FaultyProxy]:
    """moto behind a fault-injecting proxy; the SNS client talks to the proxy."""
    with FaultyProxy(aws) as proxy:
        settings.AWS_ENDPOINT_URL = proxy.url
        settings.SNS_SENDER_ID = "AIBOT"
        settings.SNS_SMS_TYPE = "Transactional"
        yield proxy


def sent_sms(moto_url: str) -> list[dict]:
    data = requests.get(f"{moto_url}/moto-api/data.json", timeout=10).json()
    return data["sns"]["SMS"]


def publishes(proxy: FaultyProxy) -> list[dict[str, str]]:
    forms = [{k: v[0] for k, v in parse_qs(r.body).items()} for r in proxy.requests]
    return [form for form in forms if form.get("Action") == "Publish"]


def test_publish_sends_the_sms_with_its_attributes(proxy, aws, outbound, settings):
    settings.SNS_MAX_PRICE_USD = "0.25"
    sent = send(outbound(PHONE, provider="sns"))

    [sms] = sent_sms(aws)
    assert (sms["phone_number"], sms["message"]) == (
        PHONE,
        "Good morning! Today's tip: drink water.",
    )
    assert sent.provider_message_id == sms["message_id"]
    assert sent.price is None
    assert sent.http_status == 200
    [form] = publishes(proxy)
    attributes = {
        form[f"MessageAttributes.entry.{i}.Name"]: form[
            f"MessageAttributes.entry.{i}.Value.StringValue"
        ]
        for i in (1, 2, 3)
    }
    assert attributes == {
        "AWS.SNS.SMS.SMSType": "Transactional",
        "AWS.SNS.SMS.SenderID": "AIBOT",
        "AWS.SNS.SMS.MaxPrice": "0.25",
    }
    record = json.dumps([sent.request, sent.response])
    assert PHONE not in record and "+1******0123" in record
    assert "testing-secret-key" not in record


def test_an_empty_attribute_setting_is_left_to_the_account_default(proxy, aws, outbound, settings):
    settings.SNS_SENDER_ID = ""
    send(outbound(PHONE, provider="sns"))

    [form] = publishes(proxy)
    names = {
        v for k, v in form.items() if k.startswith("MessageAttributes.") and k.endswith(".Name")
    }
    assert names == {"AWS.SNS.SMS.SMSType", "AWS.SNS.SMS.MaxPrice"}


def test_throttling_and_5xx_are_absorbed_by_the_retry_mode_and_the_sms_goes_once(
    proxy, aws, outbound, settings
):
    settings.SNS_CHECK_OPT_OUT = False
    proxy.fail_next(400, AWS_QUERY_ERROR.format(code="Throttling", message="Rate exceeded"))
    proxy.fail_next(503, AWS_QUERY_ERROR.format(code="ServiceUnavailable", message="busy"))

    send(outbound(PHONE, provider="sns"))

    assert len(publishes(proxy)) == 3
    assert len(sent_sms(aws)) == 1


def test_throttling_past_the_retry_limit_is_retryable(proxy, aws, outbound, settings):
    settings.SNS_CHECK_OPT_OUT = False
    settings.SNS_RETRY_ATTEMPTS = 1
    throttled = AWS_QUERY_ERROR.format(code="Throttling", message="Rate exceeded")
    proxy.fail_next(400, throttled, times=2)

    error = refusal(outbound(PHONE, provider="sns"))

    assert (error.kind, error.code, error.http_status) == (
        ErrorKind.RETRYABLE,
        "sns:Throttling",
        400,
    )
    assert len(publishes(proxy)) == 2
    assert sent_sms(aws) == []


def test_a_connection_lost_after_publishing_is_ambiguous_and_not_retried(
    proxy, aws, outbound, settings
):
    settings.SNS_CHECK_OPT_OUT = False
    proxy.drop_next()

    error = refusal(outbound(PHONE, provider="sns"))

    assert (error.kind, error.code) == (ErrorKind.AMBIGUOUS, "net:timeout")
    assert len(publishes(proxy)) == 1  # botocore's retry was vetoed
    assert len(sent_sms(aws)) == 1  # SNS did take it: a retry would have sent it twice


def test_no_endpoint_is_retryable(aws, outbound, settings):
    settings.SNS_RETRY_ATTEMPTS = 1
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    error = refusal(outbound(PHONE, provider="sns"))

    assert (error.kind, error.code) == (ErrorKind.RETRYABLE, "net:connect")


def test_a_number_opted_out_at_aws_is_held_for_review(proxy, aws, outbound):
    # moto reports numbers ending in 99 as opted out.
    error = refusal(outbound("+13125550199", provider="sns"))

    assert (error.kind, error.code) == (ErrorKind.PERMANENT, "sns:OptedOut")
    assert describe(error.code).action == Action.PROVIDER_OPT_OUT
    assert publishes(proxy) == [] and sent_sms(aws) == []


def test_a_throttled_opt_out_check_is_retryable_and_nothing_is_published(
    proxy, aws, outbound, settings
):
    settings.SNS_RETRY_ATTEMPTS = 0
    proxy.fail_next(400, AWS_QUERY_ERROR.format(code="Throttled", message="Rate exceeded"))

    error = refusal(outbound(PHONE, provider="sns"))

    assert (error.kind, error.code) == (ErrorKind.RETRYABLE, "sns:Throttling")
    assert error.request["operation"] == "CheckIfPhoneNumberIsOptedOut"
    assert publishes(proxy) == [] and sent_sms(aws) == []


@pytest.mark.parametrize("check_opt_out", [True, False])
def test_an_invalid_number_is_undeliverable(proxy, aws, outbound, settings, check_opt_out):
    settings.SNS_CHECK_OPT_OUT = check_opt_out
    error = refusal(outbound("+1-312-555-0123", provider="sns"))

    assert (error.kind, error.code, error.http_status) == (
        ErrorKind.PERMANENT,
        "sns:InvalidParameter",
        400,
    )
    assert describe(error.code).action == Action.UNDELIVERABLE
    assert sent_sms(aws) == []


@pytest.mark.parametrize(
    ("status", "aws_code", "message", "kind", "code"),
    [
        (403, "AuthorizationError", "not authorized to publish", ErrorKind.CONFIG, "sns:AuthError"),
        (403, "InvalidClientTokenId", "token invalid", ErrorKind.CONFIG, "sns:AuthError"),
        (400, "OptedOut", "phone opted out", ErrorKind.PERMANENT, "sns:OptedOut"),
        (
            400,
            "InvalidParameter",
            "Invalid parameter: MaxPrice",
            ErrorKind.PERMANENT,
            "sns:BadRequest",
        ),
    ],
)
def test_publish_refusals_are_classified(
    proxy, aws, outbound, settings, status, aws_code, message, kind, code
):
    settings.SNS_CHECK_OPT_OUT = False
    proxy.fail_next(status, AWS_QUERY_ERROR.format(code=aws_code, message=message))

    error = refusal(outbound(PHONE, provider="sns"))

    assert (error.kind, error.code, error.http_status) == (kind, code, status)
    assert error.response["Error"]["Code"] == aws_code
    assert len(publishes(proxy)) == 1


def test_missing_credentials_are_a_configuration_error(aws, outbound, settings, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    # A fresh endpoint gives a fresh client, which resolves credentials anew.
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"

    error = refusal(outbound(PHONE, provider="sns"))

    assert (error.kind, error.code) == (ErrorKind.CONFIG, "sns:AuthError")
