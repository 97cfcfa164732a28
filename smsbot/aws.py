"""One place that builds boto3 clients, with the region, endpoint and retry mode."""

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from django.conf import settings

from smsbot.aws_names import sns_sms_log_groups


def resource_name(name: str) -> str:
    """Every AWS resource the portal creates carries AWS_RESOURCE_PREFIX."""
    return f"{settings.AWS_RESOURCE_PREFIX}{name}"


@lru_cache(maxsize=32)
def _client(service: str, region: str, endpoint: str | None, retry_mode: str, attempts: int) -> Any:
    config = Config(
        region_name=region,
        retries={"mode": retry_mode, "max_attempts": attempts},
        connect_timeout=5,
        read_timeout=10,
        max_pool_connections=50,
    )
    # boto3 clients are thread-safe; sessions are not, so each client gets its own.
    return boto3.session.Session().client(service, config=config, endpoint_url=endpoint)


def endpoint_url(service: str) -> str | None:
    """Where service's client goes: its own endpoint when one is set, else AWS_ENDPOINT_URL.

    boto3's convention, AWS_ENDPOINT_URL_<SERVICE> (the service id upper-cased, dashes
    as underscores), read from the settings that declare it: an emulator for one
    service (moto has no End User Messaging SMS) while every other goes to another.
    None: boto3 finds the real AWS endpoint itself.
    """
    own = getattr(settings, "AWS_ENDPOINT_URL_" + service.upper().replace("-", "_"), "")
    return own or settings.AWS_ENDPOINT_URL or None


def has_sms_voice() -> bool:
    """Whether End User Messaging SMS can be reached: always on AWS; behind a local
    emulator only when AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2 names a server for it
    (moto has no End User Messaging SMS, so `make provision-local` goes without it)."""
    return not settings.AWS_ENDPOINT_URL or bool(
        getattr(settings, "AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2", "")
    )


def client(service: str, *, retry_mode: str = "standard", attempts: int = 5) -> Any:
    """A cached boto3 client for service, at endpoint_url(service) when one is set."""
    return _client(service, settings.AWS_REGION, endpoint_url(service), retry_mode, attempts)


@lru_cache(maxsize=8)
def _account_id(region: str, endpoint: str | None) -> str:
    # Two attempts: a webhook verifying its topic waits on this when nothing is cached.
    return str(client("sts", attempts=2).get_caller_identity()["Account"])


def account_id() -> str:
    """AWS_ACCOUNT_ID, else the account the credentials belong to (sts:GetCallerIdentity
    needs no permission)."""
    return settings.AWS_ACCOUNT_ID or _account_id(
        settings.AWS_REGION, settings.AWS_ENDPOINT_URL or None
    )


def sns_log_groups() -> tuple[str, str]:
    """This account's SNS SMS delivery log groups: (successes, failures)."""
    return sns_sms_log_groups(settings.AWS_REGION, account_id())
