"""verify_aws's lines about the account's SMS standing: the sandboxes and the spend quota.

Neither is something provision_aws can change, so neither fails the checklist: a
sandbox is noted with its verified destination numbers and the way out, a quota
below SMS_MONTHLY_SPEND_LIMIT_USD with what to request (smsbot.sms_account reads them).
"""

from __future__ import annotations

from decimal import Decimal

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from smsbot import aws, sms_account
from smsbot.provisioning.core import Check, describe_error
from smsbot.redaction import mask_phone

LABEL = "SMS account standing"


def sandbox_check(sandbox: sms_account.Sandbox) -> Check:
    label = f"SMS sandbox ({sandbox.service})"
    if not sandbox.in_sandbox:
        return Check(True, f"{label}: out of the sandbox (production)")
    verified = ", ".join(mask_phone(n) for n in sandbox.verified) or "none"
    pending = f", {len(sandbox.pending)} awaiting their code" if sandbox.pending else ""
    return Check(
        None,
        f"{label}: IN THE SANDBOX — messages reach verified destination numbers only: "
        f"{len(sandbox.verified)} verified ({verified}){pending}. Add one with manage.py "
        f"sms_sandbox add; to leave the sandbox see {sandbox.help_url}",
    )


def quota_check(quota: sms_account.SpendQuota) -> Check:
    configured = Decimal(settings.SMS_MONTHLY_SPEND_LIMIT_USD)
    stated = f"{quota.limit.normalize():f} USD a month"
    if quota.overridden:
        stated += f" (an override below the account's {quota.maximum.normalize():f} USD)"
    if configured <= quota.limit:
        return Check(
            True,
            f"SMS spend quota: {stated}; SMS_MONTHLY_SPEND_LIMIT_USD "
            f"{configured.normalize():f} USD is within it",
        )
    return Check(
        None,
        f"SMS spend quota: {stated}, below SMS_MONTHLY_SPEND_LIMIT_USD "
        f"{configured.normalize():f} USD: sending stops at {quota.limit.normalize():f} USD. "
        f"To spend more, {sms_account.QUOTA_HELP}",
    )


def checks() -> list[Check]:
    if not aws.has_sms_voice():
        # moto (make provision-local) has neither the SMS sandbox nor End User Messaging SMS.
        return [
            Check(
                None,
                f"{LABEL}: not checked — the emulator at AWS_ENDPOINT_URL has no SMS sandbox "
                "or End User Messaging SMS (a real account has both)",
            )
        ]
    try:
        found = sms_account.standing()
    except (ClientError, BotoCoreError) as exc:
        return [Check(False, f"{LABEL}: could not check — {describe_error(exc)}")]
    return [*(sandbox_check(s) for s in found.sandboxes), quota_check(found.quota)]
