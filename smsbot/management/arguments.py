"""Command-line arguments the portal's commands share."""

import phonenumbers
from django.conf import settings
from django.core.management.base import CommandError


def e164(raw: object, what: str) -> str:
    """raw as an E.164 phone number (PHONE_DEFAULT_REGION when it has no +), else a
    CommandError naming what was wrong."""
    try:
        parsed = phonenumbers.parse(str(raw), settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise CommandError(f"{what}: {raw!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
