"""Providers, one short module each: sns, twilio, console."""

from importlib import import_module

from django.conf import settings

from messaging.providers.base import ErrorKind, Provider, ProviderError, Sent

__all__ = ["ErrorKind", "Provider", "ProviderError", "Sent", "get"]

MODULES = {
    "console": "messaging.providers.console",
    "sns": "messaging.providers.sns",
    "twilio": "messaging.providers.twilio",
}


def get(name: str | None = None) -> Provider:
    """The provider called name (default: SMS_PROVIDER)."""
    name = name or settings.SMS_PROVIDER
    if name not in MODULES:
        raise ValueError(f"unknown provider {name!r}; choose one of {sorted(MODULES)}")
    return import_module(MODULES[name]).provider()
