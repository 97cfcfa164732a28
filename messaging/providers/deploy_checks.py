"""`check --deploy`: the chosen providers (SMS_PROVIDER, and SES while EMAIL_FROM is
set) have what they need to send.

Without these a deployment starts and looks healthy, and every message then fails
with a configuration error; the checks name the missing settings before that. What
no process may run without at all (EMAIL_FROM without EMAIL_POSTAL_ADDRESS, an
unknown FALLBACK_CHANNEL) is refused at start-up by smsbot.settings, not here.
"""

from django.conf import settings
from django.core.checks import Error, register

from messaging.providers.registry import MODULES

# SES sends e-mail only (chosen by EMAIL_FROM): not an SMS provider.
SMS_PROVIDERS = sorted(set(MODULES) - {"ses"})


def twilio_credentials_missing() -> list[str]:
    """What the REST client lacks: the account, and a way to authenticate (the auth
    token or an API key pair). TWILIO_CREDENTIALS_FROM_AWS supplies the account and
    token at run time from Secrets Manager (smsbot.secrets)."""
    if settings.TWILIO_CREDENTIALS_FROM_AWS:
        return []
    missing = [] if settings.TWILIO_ACCOUNT_SID else ["TWILIO_ACCOUNT_SID"]
    api_key = settings.TWILIO_API_KEY_SID and settings.TWILIO_API_KEY_SECRET
    if not (settings.TWILIO_AUTH_TOKEN or api_key):
        missing.append("TWILIO_AUTH_TOKEN (or TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET)")
    return missing


@register(deploy=True)
def provider_configured(app_configs: object, **kwargs: object) -> list[Error]:
    provider = settings.SMS_PROVIDER
    if provider not in SMS_PROVIDERS:
        return [
            Error(
                f"SMS_PROVIDER is {provider!r}: no such SMS provider, every send would fail.",
                hint=f"Set SMS_PROVIDER to one of {', '.join(SMS_PROVIDERS)}.",
                id="smsbot.E002",
            )
        ]
    errors = []
    if provider == "twilio":
        missing = twilio_credentials_missing()
        if missing:
            errors.append(
                Error(
                    f"SMS_PROVIDER=twilio without {' and '.join(missing)}: Twilio refuses "
                    "every send.",
                    hint="Set them from Twilio's console (Account Info), or set "
                    "TWILIO_CREDENTIALS_FROM_AWS=true to read the account and token from "
                    "the Secrets Manager secret provision_aws stores.",
                    id="smsbot.E003",
                )
            )
        if not (settings.TWILIO_SMS_FROM or settings.TWILIO_MESSAGING_SERVICE_SID):
            errors.append(
                Error(
                    "SMS_PROVIDER=twilio without a sender: no SMS can be sent.",
                    hint="Set TWILIO_MESSAGING_SERVICE_SID (MG...) or TWILIO_SMS_FROM "
                    "(a number of the account, E.164).",
                    id="smsbot.E004",
                )
            )
    if provider == "sns" and not settings.AWS_REGION:
        errors.append(
            Error(
                "SMS_PROVIDER=sns with AWS_REGION empty: SNS has no region to send from.",
                hint="Set AWS_REGION to the region of the portal's SNS resources, e.g. us-east-1.",
                id="smsbot.E005",
            )
        )
    return errors


@register(deploy=True)
def email_configured(app_configs: object, **kwargs: object) -> list[Error]:
    errors = []
    if settings.EMAIL_FROM and not settings.AWS_REGION:
        errors.append(
            Error(
                "EMAIL_FROM is set with AWS_REGION empty: SES has no region to send from.",
                hint="Set AWS_REGION to the region of the SES sending identity, e.g. us-east-1.",
                id="smsbot.E006",
            )
        )
    if settings.FALLBACK_CHANNEL == "email" and not settings.EMAIL_FROM:
        errors.append(
            Error(
                "FALLBACK_CHANNEL=email with EMAIL_FROM empty: e-mail is off, so no "
                "undeliverable number gets the daily message by e-mail.",
                hint="Set EMAIL_FROM (and EMAIL_POSTAL_ADDRESS), or leave FALLBACK_CHANNEL empty.",
                id="smsbot.E007",
            )
        )
    return errors
