"""The last provider configuration error, kept until an operator dismisses it.

A configuration error (bad credentials, a sender that is not set, a region not
enabled) fails every send alike, so one is enough to warn about: the admin
shows it as a banner, and the broadcast that met it is paused. A missing
registration or verification (Twilio 30034, 30032, 21608) is reported message
by message, usually by status callback: the broadcast pauses after
REGISTRATION_ERRORS_PAUSE_AFTER of them (messaging.outbound.provider_errors),
and the banner says what is missing and what to do (the error table's fix).
"""

from datetime import UTC, datetime

from django.core.cache import cache

from messaging.delivery.error_codes import describe, help_url
from smsbot import cache_reads
from smsbot.redaction import redact

KEY = "messaging:configuration-error"
KEEP_SECONDS = 7 * 24 * 3600


def remember(provider: str, code: str, text: str) -> None:
    known = describe(code)
    cache.set(
        KEY,
        {
            "provider": provider,
            "code": code,
            "meaning": known.meaning if known else "",
            "fix": known.fix if known else "",
            "help_url": help_url(provider, code),
            "message": redact(text)[:500],
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        timeout=KEEP_SECONDS,
    )


def current() -> dict[str, str] | None:
    return cache_reads.get(KEY)


def dismiss() -> None:
    cache.delete(KEY)


# The last verify_twilio run: its failed checks feed a banner until a run passes.
CHECKS_KEY = "messaging:twilio-checks"


def remember_checks(failed: list[dict[str, str]], at: str) -> None:
    cache.set(CHECKS_KEY, {"failed": failed, "at": at}, timeout=None)


def last_checks() -> dict | None:
    return cache_reads.get(CHECKS_KEY)
