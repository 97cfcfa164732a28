"""The SMS sandbox's say in a broadcast (SMS_SANDBOX_SEND), for SNS and aws-sms alike.

In the sandbox AWS delivers only to verified destination numbers
(smsbot.sms_account). With SMS_SANDBOX_SEND=refuse a broadcast does not start: it
waits, paused with the reason, until the account leaves the sandbox (then resume).
With verified-only it sends to the verified numbers and skips the rest, saying why.
Only SMS goes through AWS: WhatsApp recipients are never the sandbox's business.
"""

from django.conf import settings
from django.db.models import Case, Expression, Q, Value, When

from smsbot import sms_account
from subscribers.models import Channel, Subscriber

NOT_VERIFIED = "sandbox: destination not verified"


def _sandbox() -> sms_account.Sandbox | None:
    found = sms_account.cached_sandbox()
    return found if found and found.in_sandbox else None


def refusal(channel: str = "") -> str | None:
    """Why a broadcast to channel ("" = every channel) may not start now; None: it may."""
    sandbox = _sandbox()
    if sandbox is None or channel == Channel.WHATSAPP or settings.SMS_SANDBOX_SEND != "refuse":
        return None
    return (
        f"sandbox: the AWS account is in the {sandbox.service} SMS sandbox and "
        "SMS_SANDBOX_SEND=refuse"
    )[:200]


def verified_only() -> frozenset[str] | None:
    """The only numbers an SMS may go to now (verified-only in the sandbox); None: any."""
    sandbox = _sandbox()
    if sandbox is None or settings.SMS_SANDBOX_SEND != "verified-only":
        return None
    return frozenset(sandbox.verified)


def skip_reason(subscriber: Subscriber) -> str | None:
    """NOT_VERIFIED for an SMS recipient the sandbox would refuse under verified-only."""
    allowed = verified_only()
    if allowed is None or subscriber.channel != Channel.SMS or subscriber.phone in allowed:
        return None
    return NOT_VERIFIED


def unverified_column() -> Expression:
    """True for an SMS recipient the sandbox would refuse now (not a verified destination,
    whatever SMS_SANDBOX_SEND does about it): the preview's SANDBOX_UNVERIFIED count."""
    sandbox = _sandbox()
    if sandbox is None:
        return Value(False)
    return Case(
        When(Q(channel=Channel.SMS) & ~Q(phone__in=list(sandbox.verified)), then=Value(True)),
        default=Value(False),
    )
