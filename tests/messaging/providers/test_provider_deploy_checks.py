"""`manage.py check --deploy` refuses a provider chosen without what it needs to send."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

TWILIO_UNSET = {
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKEN": "",
    "TWILIO_API_KEY_SID": "",
    "TWILIO_API_KEY_SECRET": "",
    "TWILIO_SMS_FROM": "",
    "TWILIO_MESSAGING_SERVICE_SID": "",
    "TWILIO_CREDENTIALS_FROM_AWS": False,
}
ACCOUNT = "AC" + "0" * 32


def deploy_errors(settings, **values: object) -> str:
    """The errors `check --deploy` stops with ("" when it passes), these settings set."""
    settings.WEBHOOK_TOKEN = "t" * 32  # smsbot.E001 is another story
    for name, value in values.items():
        setattr(settings, name, value)
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE (Playwright's event loop) would add
    # Django's async.E001 to every answer: not this test's subject.
    unsafe = os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    try:
        call_command("check", "--deploy")
    except SystemCheckError as failed:
        return str(failed)
    finally:
        if unsafe is not None:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = unsafe
    return ""


def test_twilio_with_nothing_set_fails_naming_what_is_missing(settings):
    errors = deploy_errors(settings, SMS_PROVIDER="twilio", **TWILIO_UNSET)
    assert "smsbot.E003" in errors and "smsbot.E004" in errors
    assert "TWILIO_ACCOUNT_SID" in errors and "TWILIO_AUTH_TOKEN" in errors
    assert "TWILIO_MESSAGING_SERVICE_SID" in errors


@pytest.mark.parametrize(
    "credentials",
    [
        {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": "token-0123456789"},
        {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_API_KEY_SID": "SK" + "1" * 32,
         "TWILIO_API_KEY_SECRET": "secret-0123456789"},
        {"TWILIO_CREDENTIALS_FROM_AWS": True},
    ],
    ids=["auth-token", "api-key", "secrets-manager"],
)  # fmt: skip
@pytest.mark.parametrize(
    "sender",
    [{"TWILIO_SMS_FROM": "+13125550100"}, {"TWILIO_MESSAGING_SERVICE_SID": "MG" + "2" * 32}],
    ids=["number", "messaging-service"],
)
def test_twilio_with_credentials_and_a_sender_passes(settings, credentials, sender):
    values = {**TWILIO_UNSET, **credentials, **sender}
    assert deploy_errors(settings, SMS_PROVIDER="twilio", **values) == ""


def test_twilio_half_configured_fails_on_the_missing_half(settings):
    no_auth = {**TWILIO_UNSET, "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_SMS_FROM": "+13125550100"}
    errors = deploy_errors(settings, SMS_PROVIDER="twilio", **no_auth)
    assert "smsbot.E003" in errors and "smsbot.E004" not in errors
    assert "TWILIO_ACCOUNT_SID" not in errors.split("smsbot.E003")[1].split("HINT")[0]
    # An API key without its secret does not authenticate anything.
    half_key = {**no_auth, "TWILIO_API_KEY_SID": "SK" + "1" * 32}
    assert "smsbot.E003" in deploy_errors(settings, SMS_PROVIDER="twilio", **half_key)
    no_sender = {**TWILIO_UNSET, "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": "t" * 32}
    errors = deploy_errors(settings, SMS_PROVIDER="twilio", **no_sender)
    assert "smsbot.E004" in errors and "smsbot.E003" not in errors


def test_sns_needs_a_region(settings):
    assert "smsbot.E005" in deploy_errors(settings, SMS_PROVIDER="sns", AWS_REGION="")
    assert deploy_errors(settings, SMS_PROVIDER="sns", AWS_REGION="us-east-1") == ""


def test_ses_needs_a_region_and_the_fallback_needs_a_sender(settings):
    email = {"SMS_PROVIDER": "console", "EMAIL_FROM": "daily@example.com"}
    assert "smsbot.E006" in deploy_errors(settings, **email, AWS_REGION="")
    assert deploy_errors(settings, **email, AWS_REGION="us-east-1", FALLBACK_CHANNEL="email") == ""
    no_sender = {"SMS_PROVIDER": "console", "EMAIL_FROM": "", "FALLBACK_CHANNEL": "email"}
    assert "smsbot.E007" in deploy_errors(settings, **no_sender)


def test_ses_is_no_sms_provider(settings):
    errors = deploy_errors(settings, SMS_PROVIDER="ses")
    assert "smsbot.E002" in errors and "console, sns, twilio" in errors


def test_an_unknown_provider_fails_and_lists_the_known_ones(settings):
    errors = deploy_errors(settings, SMS_PROVIDER="twillio")
    assert "smsbot.E002" in errors and "'twillio'" in errors
    assert "console, sns, twilio" in errors


def test_the_console_needs_nothing_and_twilio_settings_do_not_matter_to_it(settings):
    assert deploy_errors(settings, SMS_PROVIDER="console", **TWILIO_UNSET) == ""


def test_manage_py_check_deploy_exits_non_zero_for_twilio_without_settings():
    root = Path(__file__).resolve().parents[3]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TWILIO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="smsbot.settings",
        DJANGO_SECRET_KEY="k" * 60,
        WEBHOOK_TOKEN="t" * 32,
        SMS_PROVIDER="twilio",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "smsbot.E003" in result.stderr and "smsbot.E004" in result.stderr
