"""The AWS account's SMS opt-out list: read it, add a number, take one off.

Which list is the portal's follows SMS_PROVIDER (and SMS_FAILOVER): SNS's
account-wide list, or the End User Messaging SMS opt-out list named by
AWS_SMS_OPT_OUT_LIST (every account has "Default"; a number or pool sends with
the list it is associated with).

- SNS keeps its list by itself from STOPs texted to the account over two-way; it
  has no action to add a number (ListPhoneNumbersOptedOut, CheckIfPhoneNumberIsOptedOut
  and OptInPhoneNumber are all there is), so a STOP from another door (admin, Twilio,
  import) stays off it, and the portal's own consent check at send time keeps it
  unsent. OptInPhoneNumber works "only once every 30 days" per number.
- End User Messaging SMS: PutOptedOutNumber adds one, DeleteOptedOutNumber removes
  one — also once every 30 days per number —, DescribeOptedOutNumbers reads them.

Errors: `Refused` is AWS's final word (its code and message are the reason kept in
the subscriber's history); botocore's own errors for throttling, 5xx and the
network propagate, for the caller's retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.cache import cache

from smsbot import aws

SNS = "sns"
EUM = "aws-sms"
NAMES = {SNS: "SNS", EUM: "End User Messaging SMS"}
# The once-every-30-days rule, said with AWS's refusal (AWS documents the rule, not its error).
THIRTY_DAY_RULE = "AWS allows taking a number off its opt-out list only once every 30 days"
# The last reconcile's figures, for verify_aws and the dashboard.
RECONCILE_KEY = "smsbot:opt-out-reconcile"


class Refused(Exception):
    """AWS answered the request with an error that retrying will not change."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def lists() -> list[str]:
    """The AWS opt-out lists the portal's providers send with."""
    providers = {settings.SMS_PROVIDER, settings.SMS_FAILOVER}
    return [kind for kind in (SNS, EUM) if kind in providers]


def _final(exc: ClientError) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    code = exc.response.get("Error", {}).get("Code", "")
    return 400 <= status < 500 and status != 429 and "Throttl" not in code


def _refused(exc: ClientError) -> Refused:
    error = exc.response.get("Error", {})
    return Refused(error.get("Code", ""), error.get("Message", "") or str(exc))


def _call(service: str, operation: str, **params: Any) -> dict[str, Any]:
    try:
        return getattr(aws.client(service), operation)(**params)
    except ClientError as exc:
        if _final(exc):
            raise _refused(exc) from exc
        raise


def put_opted_out(kind: str, phone: str) -> bool:
    """Put phone on the list; False where AWS has no way to (SNS)."""
    if kind == SNS:
        return False  # SNS has no "opt out" action: its list fills from STOPs texted to AWS
    _call(
        "pinpoint-sms-voice-v2",
        "put_opted_out_number",
        OptOutListName=settings.AWS_SMS_OPT_OUT_LIST,
        OptedOutNumber=phone,
    )
    return True


def opt_in(kind: str, phone: str) -> bool:
    """Take phone off the list: True when it was on it, False when it was not.

    Asks first, so the once-in-30-days opt-in is spent only on a number AWS holds.
    """
    if kind == SNS:
        held = _call("sns", "check_if_phone_number_is_opted_out", phoneNumber=phone)
        if not held.get("isOptedOut"):
            return False
        _call("sns", "opt_in_phone_number", phoneNumber=phone)
        return True
    try:
        _call(
            "pinpoint-sms-voice-v2",
            "delete_opted_out_number",
            OptOutListName=settings.AWS_SMS_OPT_OUT_LIST,
            OptedOutNumber=phone,
        )
    except Refused as exc:
        if exc.code == "ResourceNotFoundException" and "opted-out-number" in _resource(exc):
            return False
        raise
    return True


def _resource(exc: Refused) -> str:
    # ResourceNotFoundException names what is missing: the number, or the list itself.
    return exc.message.lower().replace(" ", "-")


def opted_out_numbers(kind: str) -> set[str]:
    """Every number on the list (all pages)."""
    if kind == SNS:
        numbers: set[str] = set()
        token = None
        while True:
            page = _call(
                "sns", "list_phone_numbers_opted_out", **({"nextToken": token} if token else {})
            )
            numbers.update(page.get("phoneNumbers", []))
            token = page.get("nextToken")
            if not token:
                return numbers
    paginator = aws.client("pinpoint-sms-voice-v2").get_paginator("describe_opted_out_numbers")
    try:
        return {
            n["OptedOutNumber"]
            for page in paginator.paginate(OptOutListName=settings.AWS_SMS_OPT_OUT_LIST)
            for n in page.get("OptedOutNumbers", [])
        }
    except ClientError as exc:
        if _final(exc):
            raise _refused(exc) from exc
        raise


@dataclass(frozen=True)
class Reconciled:
    """One list against the portal: what differs, and what the reconcile did about it."""

    kind: str
    at_aws: int  # numbers on AWS's list
    opted_in_here: tuple[str, ...]  # on AWS's list, opted in at the portal: for review
    pushed: int  # portal STOPs put on AWS's list (repaired)
    missing_at_aws: int  # portal STOPs AWS's list lacks and cannot take (SNS)
    at: str

    def line(self) -> str:
        name = NAMES[self.kind]
        if self.opted_in_here:
            return (
                f"opt-out list ({name}, {self.at}): {len(self.opted_in_here)} numbers opted "
                "out at AWS but opted in here — review them on the dashboard"
            )
        extra = f", {self.pushed} portal STOPs added" if self.pushed else ""
        if self.missing_at_aws:
            extra += (
                f", {self.missing_at_aws} portal STOPs not on SNS's list (SNS cannot add "
                "them; the portal's consent check keeps them unsent)"
            )
        return f"opt-out list ({name}, {self.at}): agrees with the portal{extra}"


def remember(results: list[Reconciled]) -> None:
    cache.set(RECONCILE_KEY, results, timeout=None)


def last_reconcile() -> list[Reconciled]:
    return cache.get(RECONCILE_KEY) or []
