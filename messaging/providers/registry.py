"""Which module sends for which provider name (SMS_PROVIDER and each message's own)."""

from importlib import import_module

from django.conf import settings

from messaging.providers.base import Provider

MODULES = {
    "aws-sms": "messaging.providers.aws_sms.send",
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


def max_rate(name: str) -> float | None:
    """The most messages per second the provider's sender allows, as the provider says
    (a module's max_rate()); None when it says nothing."""
    module = import_module(MODULES[name]) if name in MODULES else None
    read = getattr(module, "max_rate", None)
    return read() if read else None
