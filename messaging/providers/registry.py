"""Which module sends for which provider name (SMS_PROVIDER and each message's own)."""

from importlib import import_module

from django.conf import settings

from messaging.providers.base import Provider

MODULES = {
    "console": "messaging.providers.console",
    "sns": "messaging.providers.sns.send",
    "twilio": "messaging.providers.twilio.send",
    "ses": "messaging.providers.ses.send",
}


def get(name: str | None = None) -> Provider:
    """The provider called name (default: SMS_PROVIDER)."""
    name = name or settings.SMS_PROVIDER
    if name not in MODULES:
        raise ValueError(f"unknown provider {name!r}; choose one of {sorted(MODULES)}")
    return import_module(MODULES[name]).provider()
