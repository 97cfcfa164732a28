import io
import json
import logging
import logging.config

import pytest
from django.conf import settings

from smsbot.redaction import mask_phone, redact_data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("to +13125550123 now", "to +1******0123 now"),
        ("from whatsapp:+13125550123", "from whatsapp:+1******0123"),
        ("To=%2B13125550123&Body=hi", "To=%2B1******0123&Body=hi"),
        ("order 12345678901", "order 12345678901"),  # not E.164: no plus sign
    ],
)
def test_phone_numbers_are_masked(text, expected):
    assert mask_phone(text) == expected


def _logger_output(fmt: str, settings_obj) -> tuple[logging.Logger, io.StringIO]:
    config = json.loads(json.dumps(settings_obj.LOGGING))
    config["handlers"]["console"]["formatter"] = fmt
    config["handlers"]["console"]["stream"] = "ext://sys.stdout"
    stream = io.StringIO()
    logging.config.dictConfig(config)
    handler = logging.getLogger().handlers[0]
    handler.setStream(stream)
    return logging.getLogger("smsbot.test"), stream


@pytest.fixture
def restore_logging():
    yield
    logging.config.dictConfig(settings.LOGGING)


def test_json_log_lines_mask_numbers_and_drop_secrets(settings, restore_logging, monkeypatch):
    token = "0123456789abcdef0123456789abcdef"
    aws_secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
    settings.TWILIO_AUTH_TOKEN = token
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws_secret)
    log, stream = _logger_output("json", settings)

    log.info("sent to %s with token %s", "whatsapp:+13125550123", token)
    log.warning("aws key %s", aws_secret, extra={"phone": "+13125550199"})
    try:
        raise RuntimeError(f"failed for +13125550123 using {token}")
    except RuntimeError:
        log.exception("provider error")

    output = stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(lines) == 3, output
    assert lines[0]["message"] == "sent to whatsapp:+1******0123 with token [redacted]"
    assert lines[0]["level"] == "INFO"
    assert lines[1]["phone"] == "+1******0199"
    assert "5550123" not in output and "5550199" not in output
    assert token not in output
    assert aws_secret not in output


def test_text_logs_are_redacted_too(settings, restore_logging):
    settings.TWILIO_AUTH_TOKEN = "secret-token-value-123"
    log, stream = _logger_output("text", settings)
    log.info("To=%s token=%s", "+13125550123", "secret-token-value-123")
    line = stream.getvalue().strip()
    assert line.endswith("To=+1******0123 token=[redacted]")


def test_provider_call_records_redact_secret_fields():
    record = {
        "To": "+13125550123",
        "Authorization": "Basic abc",
        "nested": [{"auth_token": "x", "body": "hi +13125550123"}],
    }
    assert redact_data(record) == {
        "To": "+1******0123",
        "Authorization": "[redacted]",
        "nested": [{"auth_token": "[redacted]", "body": "hi +1******0123"}],
    }
