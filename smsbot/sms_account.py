"""The AWS account's SMS standing: the sandbox, its verified destinations, the spend quota.

A new AWS account is in the SMS sandbox twice over: SNS's (GetSMSSandboxAccountStatus,
ListSMSSandboxPhoneNumbers) and End User Messaging SMS's account tier
(DescribeAccountAttributes ACCOUNT_TIER = SANDBOX, DescribeVerifiedDestinationNumbers).
In a sandbox, messages reach verified destination numbers only. Its monthly text
spend quota is 1 USD (DescribeSpendLimits TEXT_MESSAGE_MONTHLY_SPEND_LIMIT, which
SNS's MonthlySpendLimit cannot exceed); raising it takes a quota increase request.

verify_aws and provision_aws read it fresh; the dashboard banner (the sandbox) and
the budget guard (the quota) read it through the cache (CACHE_SECONDS), and only
when an AWS provider sends (SMS_PROVIDER sns or aws-sms). The portal role may read
all of it (smsbot.provisioning.iam); adding destinations is for DevOps credentials.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError
from django.conf import settings
from django.core.cache import cache

from smsbot import aws

log = logging.getLogger(__name__)
T = TypeVar("T")

AWS_PROVIDERS = ("sns", "aws-sms")
SNS = "SNS"
EUM = "End User Messaging SMS"
TEXT_SPEND_LIMIT = "TEXT_MESSAGE_MONTHLY_SPEND_LIMIT"
CACHE_SECONDS = 300
# After a failed read, ask again this soon rather than on every page or send.
RETRY_SECONDS = 60
CACHE_KEY = "smsbot:sms-account"
# What to do about each, for the banner and the command output.
SANDBOX_HELP = {
    SNS: "https://docs.aws.amazon.com/sns/latest/dg/sns-sms-sandbox-moving-to-production.html",
    EUM: "https://docs.aws.amazon.com/sms-voice/latest/userguide/sandbox.html",
}
QUOTA_HELP = (
    "request a spend quota increase (AWS End User Messaging SMS console → Spend limits → "
    "Request increase, which opens an AWS support case for the SMS service)"
)


@dataclass(frozen=True)
class Sandbox:
    """One service's sandbox: whether the account is in it, and its destination numbers."""

    service: str
    in_sandbox: bool
    verified: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()

    @property
    def help_url(self) -> str:
        return SANDBOX_HELP[self.service]


@dataclass(frozen=True)
class SpendQuota:
    """The account's monthly text spend quota in USD (MaxLimit) and any lower override."""

    maximum: Decimal
    enforced: Decimal
    overridden: bool

    @property
    def limit(self) -> Decimal:
        """What AWS stops sending at this month."""
        return min(self.enforced, self.maximum) if self.overridden else self.maximum


@dataclass(frozen=True)
class Standing:
    sandboxes: tuple[Sandbox, ...]
    quota: SpendQuota

    def sandbox(self, service: str) -> Sandbox:
        return next(s for s in self.sandboxes if s.service == service)


def _sns() -> Any:
    return aws.client("sns", attempts=2)


def _eum() -> Any:
    return aws.client("pinpoint-sms-voice-v2", attempts=2)


def sns_sandbox() -> Sandbox:
    in_sandbox = bool(_sns().get_sms_sandbox_account_status()["IsInSandbox"])
    numbers: dict[str, str] = {}
    for page in _sns().get_paginator("list_sms_sandbox_phone_numbers").paginate():
        numbers.update({n["PhoneNumber"]: n["Status"] for n in page["PhoneNumbers"]})
    return Sandbox(
        SNS,
        in_sandbox,
        tuple(sorted(n for n, s in numbers.items() if s == "Verified")),
        tuple(sorted(n for n, s in numbers.items() if s != "Verified")),
    )


def eum_tier() -> str:
    """End User Messaging SMS's ACCOUNT_TIER: SANDBOX or PRODUCTION."""
    pages = _eum().get_paginator("describe_account_attributes").paginate()
    attributes = {a["Name"]: a["Value"] for page in pages for a in page["AccountAttributes"]}
    return attributes.get("ACCOUNT_TIER", "")


def eum_sandbox() -> Sandbox:
    numbers: dict[str, str] = {}
    for page in _eum().get_paginator("describe_verified_destination_numbers").paginate():
        for n in page["VerifiedDestinationNumbers"]:
            numbers[n["DestinationPhoneNumber"]] = n["Status"]
    return Sandbox(
        EUM,
        eum_tier() == "SANDBOX",
        tuple(sorted(n for n, s in numbers.items() if s == "VERIFIED")),
        tuple(sorted(n for n, s in numbers.items() if s != "VERIFIED")),
    )


def spend_quota() -> SpendQuota:
    pages = _eum().get_paginator("describe_spend_limits").paginate()
    limits = {s["Name"]: s for page in pages for s in page["SpendLimits"]}
    text = limits[TEXT_SPEND_LIMIT]
    return SpendQuota(
        Decimal(text["MaxLimit"]), Decimal(text["EnforcedLimit"]), bool(text["Overridden"])
    )


def standing() -> Standing:
    """Read now; raises botocore's errors."""
    return Standing((sns_sandbox(), eum_sandbox()), spend_quota())


def aws_sends() -> bool:
    return settings.SMS_PROVIDER in AWS_PROVIDERS


def _cached(key: str, read: Callable[[], T]) -> T | None:
    """read()'s answer of at most CACHE_SECONDS ago; None when no AWS provider sends or
    AWS could not be read (logged; asked again after RETRY_SECONDS)."""
    if not aws_sends():
        return None
    found = cache.get(key)
    if found is None:
        try:
            found = read()
        # An emulator or proxy may answer with something that is not AWS's format
        # (ResponseParserError): neither the banner nor a send may fail for it.
        except (ClientError, BotoCoreError, ResponseParserError, KeyError) as exc:
            log.warning("could not read the AWS account's SMS standing (%s): %s", key, exc)
            found = False
        cache.set(key, found, CACHE_SECONDS if found else RETRY_SECONDS)
    return found or None


def cached_sandbox() -> Sandbox | None:
    """The sandbox SMS_PROVIDER sends through, for the dashboard banner."""
    return _cached(f"{CACHE_KEY}:sandbox:{settings.SMS_PROVIDER}", current_sandbox)


def effective_spend_limit() -> Decimal:
    """The lower of SMS_MONTHLY_SPEND_LIMIT_USD and the account's quota, when AWS sends."""
    configured = Decimal(settings.SMS_MONTHLY_SPEND_LIMIT_USD)
    quota = _cached(f"{CACHE_KEY}:quota", spend_quota)
    return min(configured, quota.limit) if quota else configured


# --- Adding and verifying sandbox destinations (manage.py sms_sandbox) -------------


def sandbox_service() -> str:
    """The sandbox SMS_PROVIDER's sends go through: End User Messaging SMS's for aws-sms."""
    return EUM if settings.SMS_PROVIDER == "aws-sms" else SNS


def add_destination(phone: str) -> None:
    """Add phone as a sandbox destination; AWS texts it a code to verify with."""
    if sandbox_service() == SNS:
        _sns().create_sms_sandbox_phone_number(PhoneNumber=phone, LanguageCode="en-US")
        return
    found = _eum_destination(phone)
    if found is None:
        found = _eum().create_verified_destination_number(DestinationPhoneNumber=phone)
    _eum().send_destination_number_verification_code(
        VerifiedDestinationNumberId=found["VerifiedDestinationNumberId"],
        VerificationChannel="TEXT",
    )


def verify_destination(phone: str, code: str) -> None:
    """Verify phone with the code AWS texted it; raises LookupError when it was never added."""
    if sandbox_service() == SNS:
        _sns().verify_sms_sandbox_phone_number(PhoneNumber=phone, OneTimePassword=code)
        return
    found = _eum_destination(phone)
    if found is None:
        raise LookupError(phone)
    _eum().verify_destination_number(
        VerifiedDestinationNumberId=found["VerifiedDestinationNumberId"], VerificationCode=code
    )


def _eum_destination(phone: str) -> dict[str, Any] | None:
    answer = _eum().describe_verified_destination_numbers(DestinationPhoneNumbers=[phone])
    return next(iter(answer["VerifiedDestinationNumbers"]), None)


def current_sandbox() -> Sandbox:
    return eum_sandbox() if sandbox_service() == EUM else sns_sandbox()
