import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# DESIGN.md's environment table: every variable must be documented in .env.example.
DESIGN_VARIABLES = [
    "DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL",
    "CELERY_BROKER_URL", "REDIS_URL", "PUBLIC_BASE_URL", "SMS_PROVIDER", "AWS_REGION",
    "AWS_ENDPOINT_URL", "AWS_RESOURCE_PREFIX", "DYNAMODB_SYNC_ENABLED",
    "DYNAMODB_SUBSCRIBERS_TABLE", "DYNAMODB_CONVERSATIONS_TABLE", "DYNAMODB_ANALYTICS_TABLE",
    "SNS_SMS_TYPE", "SNS_SENDER_ID", "SMS_MONTHLY_SPEND_LIMIT_USD", "SMS_SEND_RATE",
    "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_SMS_FROM",
    "TWILIO_MESSAGING_SERVICE_SID", "TWILIO_WHATSAPP_NUMBER", "TWILIO_API_BASE_URL",
    "TWILIO_VALIDATE_SIGNATURES", "SNS_VERIFY_SIGNATURES", "WEBHOOK_TOKEN",
    "DAILY_SEND_TIME", "DAILY_SEND_TIMEZONE", "QUIET_HOURS", "PAUSE_DEFAULT_DAYS",
    "ALERT_EMAILS", "ALERT_FAILURE_RATE",
]  # fmt: skip


def load_settings(
    env: dict[str, str], expr: str, env_file: Path | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_"))}
    clean.update(env, DJANGO_SETTINGS_MODULE="smsbot.settings")
    preload = f"import environ; environ.Env.read_env({str(env_file)!r}); " if env_file else ""
    code = f"{preload}import django; django.setup(); from django.conf import settings as s; "
    code += f"print(repr(({expr})))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_env_example_lists_every_design_variable():
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    assert set(DESIGN_VARIABLES) <= listed, set(DESIGN_VARIABLES) - listed


def test_env_example_as_dotenv_loads_with_its_comments():
    # A copy of .env.example must give the documented defaults, not the comments.
    env = {"DJANGO_DEBUG": "true"}
    result = load_settings(
        env,
        "s.SMS_PROVIDER, s.SMS_SEND_RATE, s.DAILY_SEND_TIMEZONE, s.MESSAGE_RETENTION_DAYS, "
        "bool(s.OPTIN_CONSENT_TEXT), bool(s.OPTIN_CONFIRMATION_TEXT)",
        env_file=ROOT / ".env.example",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('console', 20.0, 'America/Chicago', None, True, True)"


def test_alert_settings_default_to_nobody_and_ten_percent():
    env = {"DJANGO_DEBUG": "true"}
    copied = load_settings(
        env, "s.ALERT_EMAILS, s.ALERT_FAILURE_RATE", env_file=ROOT / ".env.example"
    )
    assert copied.stdout.strip() == "([], 10.0)", copied.stderr
    listed = load_settings(
        {**env, "ALERT_EMAILS": "ops@example.com, oncall@example.com,", "ALERT_FAILURE_RATE": "5"},
        "s.ALERT_EMAILS, s.ALERT_FAILURE_RATE",
    )
    assert listed.stdout.strip() == "(['ops@example.com', 'oncall@example.com'], 5.0)"


def test_missing_secret_key_stops_start_up_with_a_clear_error():
    result = load_settings({"DJANGO_DEBUG": "false"}, "s.SECRET_KEY")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "Traceback" in result.stderr  # Django's ImproperlyConfigured, the variable named


def test_production_settings_turn_on_security_headers():
    env = {
        "DJANGO_SECRET_KEY": "x" * 50,
        "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    }
    result = load_settings(
        env,
        "s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, "
        "s.SECURE_PROXY_SSL_HEADER, s.SECURE_CONTENT_TYPE_NOSNIFF",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "(False, True, True, True, ('HTTP_X_FORWARDED_PROTO', 'https'), True)"
    )


def test_debug_without_secret_key_uses_the_dev_key_and_warns(tmp_path):
    env = {"DJANGO_DEBUG": "true"}
    result = load_settings(env, "s.SECRET_KEY.startswith('dev-only')")
    assert result.stdout.strip() == "True"
    # manage.py from a checkout without make run's var/secret_key (it would use that key).
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    check = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=tmp_path,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            **env,
            "PYTHONPATH": str(ROOT),
        },
        capture_output=True,
        text=True,
    )
    assert "DJANGO_SECRET_KEY is unset" in check.stderr + check.stdout


def test_env_example_gives_the_delivery_window_defaults(monkeypatch):
    monkeypatch.delenv("QUIET_HOURS")  # the test settings turn them off
    result = load_settings(
        {"DJANGO_DEBUG": "true"},
        "s.QUIET_HOURS, s.PAUSE_DEFAULT_DAYS, s.PAUSE_KEYWORDS, s.RESUME_KEYWORDS, "
        "s.TIME_KEYWORD, '{pause}' in s.KEYWORD_REPLY_HELP",
        env_file=ROOT / ".env.example",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('21:00-08:00', 7, ['PAUSE'], ['RESUME'], 'TIME', True)"


def test_malformed_quiet_hours_stop_start_up_with_the_reason():
    result = load_settings({"DJANGO_DEBUG": "true", "QUIET_HOURS": "9pm-8am"}, "s.QUIET_HOURS")
    assert result.returncode != 0
    assert "QUIET_HOURS must be HH:MM-HH:MM" in result.stderr


def test_twilio_account_settings_default_safely_and_refuse_nonsense():
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    names = {"TWILIO_OPT_OUT_HANDLING", "TWILIO_API_KEY_SID", "TWILIO_API_KEY_SECRET",
             "TWILIO_AUTH_TOKEN_SECONDARY", "TWILIO_BROADCAST_VALIDITY_HOURS"}  # fmt: skip
    assert names <= documented, names - documented
    expr = "s.TWILIO_OPT_OUT_HANDLING, s.TWILIO_API_KEY_SID, s.TWILIO_BROADCAST_VALIDITY_HOURS"
    copied = load_settings({"DJANGO_DEBUG": "true"}, expr, env_file=ROOT / ".env.example")
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout.strip() == "('twilio', '', 4.0)"
    for name, value in (
        ("TWILIO_OPT_OUT_HANDLING", "both"),
        ("TWILIO_BROADCAST_VALIDITY_HOURS", "0"),
    ):
        refused = load_settings({"DJANGO_DEBUG": "true", name: value}, "1")
        assert refused.returncode != 0 and name in refused.stderr


def test_origination_numbers_are_e164_or_start_up_stops_with_the_reason():
    ok = load_settings(
        {"DJANGO_DEBUG": "true", "SMS_ORIGINATION_NUMBERS": "+13125550100, +13125550101"},
        "s.SMS_ORIGINATION_NUMBERS",
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "['+13125550100', '+13125550101']"
    bad = load_settings(
        {"DJANGO_DEBUG": "true", "SMS_ORIGINATION_NUMBERS": "312-555-0100"},
        "s.SMS_ORIGINATION_NUMBERS",
    )
    assert bad.returncode != 0
    assert "SMS_ORIGINATION_NUMBERS: '312-555-0100' is not an E.164 number" in bad.stderr


def test_sms_failover_needs_the_other_of_sns_and_twilio():
    env = {"DJANGO_DEBUG": "true", "SMS_PROVIDER": "sns", "SMS_FAILOVER": "twilio"}
    ok = load_settings(env, "s.SMS_FAILOVER, s.FAILOVER_FAILURE_THRESHOLD")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "('twilio', 5)"
    for provider, backup in (("sns", "sns"), ("console", "twilio"), ("twilio", "email")):
        env = {"DJANGO_DEBUG": "true", "SMS_PROVIDER": provider, "SMS_FAILOVER": backup}
        refused = load_settings(env, "s.SMS_FAILOVER")
        assert refused.returncode != 0
        assert "SMS_FAILOVER" in refused.stderr and "ImproperlyConfigured" in refused.stderr
