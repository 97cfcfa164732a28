"""System checks: start-up warnings for settings that are only safe in development,
and `check --deploy` errors for what production must have set."""

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register()
def insecure_settings(app_configs: object, **kwargs: object) -> list[Warning]:
    warnings = []
    if not settings.TWILIO_VALIDATE_SIGNATURES:
        warnings.append(
            Warning(
                "TWILIO_VALIDATE_SIGNATURES is false: forged Twilio webhooks will be accepted.",
                hint="Only for local development.",
                id="smsbot.W001",
            )
        )
    if not settings.SNS_VERIFY_SIGNATURES:
        warnings.append(
            Warning(
                "SNS_VERIFY_SIGNATURES is false: forged SNS notifications will be accepted.",
                hint="Only for local development.",
                id="smsbot.W002",
            )
        )
    from smsbot.settings import DEV_SECRET_KEY

    if settings.SECRET_KEY == DEV_SECRET_KEY:
        warnings.append(
            Warning(
                "DJANGO_SECRET_KEY is unset: using the dev-only key.",
                hint="Set DJANGO_SECRET_KEY before deploying.",
                id="smsbot.W003",
            )
        )
    return warnings


@register(Tags.security, deploy=True)
def public_doors(app_configs: object, **kwargs: object) -> list[CheckMessage]:
    """What an operator must decide before the public can reach the portal."""
    if settings.WEBHOOK_TOKEN or settings.OPTIN_API_PUBLIC:
        return []
    return [
        Error(
            "/api/optin/ has no WEBHOOK_TOKEN: it refuses every request (401).",
            hint="Set WEBHOOK_TOKEN and give it to the partners that call the API, or set "
            "OPTIN_API_PUBLIC=true to let anyone sign numbers up through it (per-IP, "
            "per-number and hourly confirmation limits still apply).",
            id="smsbot.E001",
        )
    ]


@register(deploy=True)
def admin_login_without_second_factor(app_configs: object, **kwargs: object) -> list[Warning]:
    """manage.py check --deploy: a production admin should ask for a TOTP code."""
    if settings.ADMIN_2FA_REQUIRED or settings.DEBUG:
        return []
    return [
        Warning(
            "ADMIN_2FA_REQUIRED is false: staff log in to the admin with a password alone.",
            hint="Set ADMIN_2FA_REQUIRED=true; each staff user then enrols an authenticator "
            "app through a one-time link a superuser issues (manage.py enrolment_link for "
            "the first).",
            id="smsbot.W021",
        )
    ]


@register(deploy=True)
def twilio_api_key_half_set(app_configs: object, **kwargs: object) -> list[Warning]:
    """manage.py check --deploy: an API key needs its secret (and the other way round);
    with only one of them, REST calls quietly keep using the auth token."""
    if bool(settings.TWILIO_API_KEY_SID) == bool(settings.TWILIO_API_KEY_SECRET):
        return []
    missing = "TWILIO_API_KEY_SECRET" if settings.TWILIO_API_KEY_SID else "TWILIO_API_KEY_SID"
    return [
        Warning(
            f"{missing} is unset: Twilio REST calls use the auth token, not the API key.",
            hint="Set TWILIO_API_KEY_SID (SK...) and TWILIO_API_KEY_SECRET together, or "
            "neither. The secret is shown once, when the key is created in Twilio's console.",
            id="smsbot.W026",
        )
    ]


@register(deploy=True)
def phone_hash_salt_unset(app_configs: object, **kwargs: object) -> list[Warning]:
    """manage.py check --deploy: the phone-number hashes must not hang on the secret key.

    Unset, PHONE_HASH_SALT is SECRET_KEY (subscribers.consent.phone_hash): rotating the
    key would make every stored hash unfindable, an erased number's history included.
    Setting it to the key's current value keeps every existing hash matching."""
    if settings.PHONE_HASH_SALT:
        return []
    return [
        Warning(
            "PHONE_HASH_SALT is unset: phone-number hashes are keyed by DJANGO_SECRET_KEY, "
            "and rotating the key would lose every hashed and erased number's history.",
            hint="Set PHONE_HASH_SALT to the current value of DJANGO_SECRET_KEY (make run: "
            "the content of var/secret_key), so that existing hashes keep matching; then "
            "the key can rotate. A new deployment with no subscribers may use any long "
            "random string instead.",
            id="smsbot.W027",
        )
    ]
