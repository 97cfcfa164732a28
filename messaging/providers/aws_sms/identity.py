"""The number or identity an AWS SMS send leaves from, and its throughput as AWS reports it.

A reply leaves from the number the person texted (reply_from), when that number is one
of the portal's: in SMS_ORIGINATION_NUMBERS, or, with that empty, any number of the
account. Anything else (a number of another application whose two-way points at our
topic) would be refused as an origination, so the reply falls back to the usual one.

A number's MPS is in DescribePhoneNumbers (MessagingLimits.RateLimits.SMS); a pool
sends from all of its numbers, so its rate is theirs summed. With no identity named
(an account-level send) AWS selects one of the account's numbers for each message, so
the rate is the slowest of them: the one it may pick. Read at most every
CACHE_SECONDS (the rate limiter asks on every send); when AWS cannot be read the
identity's rate is unknown and SMS_SEND_RATE alone holds.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError
from django.conf import settings
from django.core.cache import cache

from messaging.models import Message
from smsbot import aws

log = logging.getLogger(__name__)

SERVICE = "pinpoint-sms-voice-v2"
CACHE_SECONDS = 600
RETRY_SECONDS = 60
_UNKNOWN = -1.0


def origination_identity() -> str:
    """AWS_SMS_ORIGINATION_IDENTITY, else the first of SMS_ORIGINATION_NUMBERS; "" lets
    AWS pick one of the account's."""
    if settings.AWS_SMS_ORIGINATION_IDENTITY:
        return settings.AWS_SMS_ORIGINATION_IDENTITY
    return settings.SMS_ORIGINATION_NUMBERS[0] if settings.SMS_ORIGINATION_NUMBERS else ""


def sns_origination_number() -> str:
    """The number SNS sends from (AWS.MM.SMS.OriginationNumber): the first of
    SMS_ORIGINATION_NUMBERS, as aws-sms's default identity, so both providers send a
    broadcast from one number whose MPS is the pace; "" lets AWS pick. Not
    AWS_SMS_ORIGINATION_IDENTITY: SNS takes a phone number here, not a pool or sender ID."""
    return settings.SMS_ORIGINATION_NUMBERS[0] if settings.SMS_ORIGINATION_NUMBERS else ""


def account_numbers() -> set[str]:
    """The account's phone numbers (E.164), read at most every CACHE_SECONDS; empty
    when AWS cannot be read (then no texted number counts as ours)."""
    key = "smsbot:aws-sms:account-numbers"
    found = cache.get(key)
    if found is None:
        try:
            found = sorted(n["PhoneNumber"] for n in _numbers(""))
        except (ClientError, BotoCoreError, ResponseParserError, KeyError) as exc:
            log.warning("could not read the account's phone numbers: %s", exc)
            cache.set(key, [], RETRY_SECONDS)
            return set()
        cache.set(key, found, CACHE_SECONDS)
    return set(found)


def is_ours(number: str) -> bool:
    """Whether the portal may send from number: one of SMS_ORIGINATION_NUMBERS, or any
    of the account's numbers when that is empty."""
    if not number:
        return False
    if settings.SMS_ORIGINATION_NUMBERS:
        return number in settings.SMS_ORIGINATION_NUMBERS
    return number in account_numbers()


def reply_from(message: Message) -> str:
    """For a reply to a text, the number the person texted when it is ours; else ""."""
    if message.in_reply_to_id and is_ours(message.our_number):
        return message.our_number
    return ""


def _is_pool(identity: str) -> bool:
    return identity.startswith("pool-") or ":pool/" in identity


def _numbers(identity: str) -> list[dict[str, Any]]:
    """The phone numbers that send for identity (a pool's, or the one number)."""
    eum = aws.client(SERVICE, attempts=2)
    numbers = eum.get_paginator("describe_phone_numbers")
    if not identity:  # an account-level send: any of the account's numbers
        return [n for page in numbers.paginate() for n in page["PhoneNumbers"]]
    if _is_pool(identity):
        members = eum.get_paginator("list_pool_origination_identities").paginate(PoolId=identity)
        ids = [
            o["OriginationIdentityArn"]
            for page in members
            for o in page["OriginationIdentities"]
            if ":phone-number/" in o["OriginationIdentityArn"]
        ]
        if not ids:
            return []
        pages = numbers.paginate(PhoneNumberIds=ids)
    elif identity.startswith(("phone-", "arn:")):
        pages = numbers.paginate(PhoneNumberIds=[identity])
    else:  # an E.164 number (or a sender ID, which has no number and no MPS)
        found = [n for page in numbers.paginate() for n in page["PhoneNumbers"]]
        return [n for n in found if n["PhoneNumber"] == identity]
    return [n for page in pages for n in page["PhoneNumbers"]]


def read_mps(identity: str) -> float | None:
    """The identity's SMS messages per second, read now ("": the account's slowest
    number, which AWS may pick); None when AWS reports none."""
    rates = [
        n.get("MessagingLimits", {}).get("RateLimits", {}).get("SMS")
        for n in _numbers(identity)
        if n.get("Status") == "ACTIVE"
    ]
    known = [float(r) for r in rates if r]
    if not known:
        return None
    return sum(known) if identity else min(known)


def mps(identity: str | None = None) -> float | None:
    """The MPS of identity (default: aws-sms's origination identity), cached; None when
    unknown."""
    identity = origination_identity() if identity is None else identity
    key = f"smsbot:aws-sms:mps:{identity or 'account'}"
    found = cache.get(key)
    if found is None:
        try:
            found = read_mps(identity) or _UNKNOWN
        except (ClientError, BotoCoreError, ResponseParserError, KeyError) as exc:
            log.warning("could not read the MPS of %s: %s", identity, exc)
            cache.set(key, _UNKNOWN, RETRY_SECONDS)
            return None
        cache.set(key, found, CACHE_SECONDS)
    return None if found == _UNKNOWN else float(found)
