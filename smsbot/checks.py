"""Start-up warnings for settings that are only safe in development."""

from django.conf import settings
from django.core.checks import Warning, register


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


@register(deploy=True)
def admin_login_without_second_factor(app_configs: object, **kwargs: object) -> list[Warning]:
    """manage.py check --deploy: a production admin should ask for a TOTP code."""
    if settings.ADMIN_2FA_REQUIRED or settings.DEBUG:
        return []
    return [
        Warning(
            "ADMIN_2FA_REQUIRED is false: staff log in to the admin with a password alone.",
            hint="Set ADMIN_2FA_REQUIRED=true; each staff user enrols an authenticator app "
            "at their next login.",
            id="smsbot.W021",
        )
    ]
