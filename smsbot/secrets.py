"""Twilio credentials: from settings, or from the Secrets Manager secret provision_aws stores."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from smsbot import aws

log = logging.getLogger(__name__)

TWILIO_SECRET = "smsbot/twilio"


def twilio_secret_name() -> str:
    return aws.resource_name(TWILIO_SECRET)


@dataclass(frozen=True)
class TwilioCredentials:
    account_sid: str
    auth_token: str

    def __bool__(self) -> bool:
        return bool(self.account_sid and self.auth_token)

    def to_secret(self) -> str:
        return json.dumps({"account_sid": self.account_sid, "auth_token": self.auth_token})

    @classmethod
    def from_secret(cls, value: str) -> TwilioCredentials:
        data = json.loads(value)
        return cls(str(data.get("account_sid", "")), str(data.get("auth_token", "")))


def twilio_from_settings() -> TwilioCredentials:
    return TwilioCredentials(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)


@lru_cache(maxsize=1)
def _twilio_from_secrets_manager() -> TwilioCredentials:
    value = aws.client("secretsmanager").get_secret_value(SecretId=twilio_secret_name())
    return TwilioCredentials.from_secret(value["SecretString"])


def twilio_credentials() -> TwilioCredentials:
    """Settings win; otherwise, with TWILIO_CREDENTIALS_FROM_AWS, the stored secret.

    A failed lookup is not cached (lru_cache keeps only answers), so a transient AWS
    error is retried on the next call. Empty credentials mean "not configured".
    """
    configured = twilio_from_settings()
    if configured or not settings.TWILIO_CREDENTIALS_FROM_AWS:
        return configured
    try:
        return _twilio_from_secrets_manager()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        log.warning("Twilio secret %s not readable: %s", twilio_secret_name(), code)
    except (BotoCoreError, ValueError) as exc:
        log.warning("Twilio secret %s not readable: %s", twilio_secret_name(), type(exc).__name__)
    return configured


def loaded_secret_values() -> list[str]:
    """Secrets already fetched from AWS, for log redaction (never fetches anything)."""
    if _twilio_from_secrets_manager.cache_info().currsize:
        return [_twilio_from_secrets_manager().auth_token]
    return []
