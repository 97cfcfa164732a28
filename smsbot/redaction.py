"""Masking of phone numbers and secrets, for logs and provider-call records."""

import re
from collections.abc import Iterable
from typing import Any

# E.164 (optionally behind "whatsapp:" or URL-encoded "%2B"): keep country code
# digit(s) and the last four digits, mask the rest.
_PHONE_RE = re.compile(r"(?<![\w+])(?:(whatsapp:)|)(\+|%2B)(\d{1,2}?)(\d{4,11})(\d{4})(?!\d)")
_MASK = "*"

SECRET_KEYS = (
    "auth_token",
    "authtoken",
    "password",
    "secret",
    "token",
    "authorization",
    "x-twilio-signature",
    "aws_secret_access_key",
    "signature",
)


def mask_phone(text: str) -> str:
    """Mask every E.164 number in text: +13125550123 -> +1******0123."""

    def repl(m: re.Match[str]) -> str:
        prefix, plus, cc, middle, last = m.groups()
        return f"{prefix or ''}{plus}{cc}{_MASK * len(middle)}{last}"

    return _PHONE_RE.sub(repl, text)


def _secret_values() -> list[str]:
    from django.conf import settings

    values = [
        getattr(settings, "TWILIO_AUTH_TOKEN", ""),
        getattr(settings, "TWILIO_AUTH_TOKEN_SECONDARY", ""),
        getattr(settings, "TWILIO_API_KEY_SECRET", ""),
        getattr(settings, "WEBHOOK_TOKEN", ""),
        getattr(settings, "SECRET_KEY", ""),
        getattr(settings, "PHONE_HASH_SALT", ""),
    ]
    import os

    values.append(os.environ.get("AWS_SECRET_ACCESS_KEY", ""))
    values.append(os.environ.get("AWS_SESSION_TOKEN", ""))
    from smsbot.secrets import loaded_secret_values

    values.extend(loaded_secret_values())
    return [v for v in values if v and len(v) >= 6]


def redact_secrets(text: str, secrets: Iterable[str] | None = None) -> str:
    for value in _secret_values() if secrets is None else secrets:
        if value and value in text:
            text = text.replace(value, "[redacted]")
    return text


def redact(text: str) -> str:
    return mask_phone(redact_secrets(text))


def redact_data(data: Any, secrets: list[str] | None = None) -> Any:
    """Redact a JSON-like structure: secret-named keys are blanked, strings masked."""
    if secrets is None:
        secrets = _secret_values()  # once per structure, not once per string
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if isinstance(key, str) and key.lower().replace("-", "_") in _secret_key_set():
                out[key] = "[redacted]"
            else:
                out[key] = redact_data(value, secrets)
        return out
    if isinstance(data, list | tuple):
        return [redact_data(v, secrets) for v in data]
    if isinstance(data, str):
        return mask_phone(redact_secrets(data, secrets))
    return data


def _secret_key_set() -> set[str]:
    return {k.replace("-", "_") for k in SECRET_KEYS}
