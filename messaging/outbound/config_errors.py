"""The last provider configuration error, kept until an operator dismisses it.

A configuration error (bad credentials, a sender that is not set, a region not
enabled) fails every send alike, so one is enough to warn about: the admin
shows it as a banner, and the broadcast that met it is paused.
"""

from datetime import UTC, datetime

from django.core.cache import cache

from messaging.delivery.error_codes import meaning
from smsbot.redaction import redact

KEY = "messaging:configuration-error"
KEEP_SECONDS = 7 * 24 * 3600


def remember(provider: str, code: str, text: str) -> None:
    cache.set(
        KEY,
        {
            "provider": provider,
            "code": code,
            "meaning": meaning(code),
            "message": redact(text)[:500],
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        timeout=KEEP_SECONDS,
    )


def current() -> dict[str, str] | None:
    return cache.get(KEY)


def dismiss() -> None:
    cache.delete(KEY)
