"""Phone number parsing: every number is stored in E.164."""

import phonenumbers
from django.conf import settings
from phonenumbers import timezone as number_zones

WHATSAPP_PREFIX = "whatsapp:"


class InvalidPhone(ValueError):
    """The text is not a valid phone number; str(exc) says why."""


def split_channel(raw: str) -> tuple[str, str | None]:
    """'whatsapp:+1312…' -> ('+1312…', 'whatsapp'); plain numbers -> (text, None)."""
    text = (raw or "").strip()
    if text.lower().startswith(WHATSAPP_PREFIX):
        return text[len(WHATSAPP_PREFIX) :].strip(), "whatsapp"
    return text, None


def normalize(raw: str, region: str | None = None) -> str:
    """Return the E.164 form of raw, or raise InvalidPhone with a reason."""
    text, _ = split_channel(raw)
    if not text:
        raise InvalidPhone("phone number is empty")
    if len(text) > 40:
        raise InvalidPhone("phone number is too long")
    try:
        parsed = phonenumbers.parse(text, region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {exc._msg}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def try_normalize(raw: str) -> str | None:
    try:
        return normalize(raw)
    except InvalidPhone:
        return None


def timezone_for(phone: str) -> str:
    """The IANA timezone of an E.164 number, from phonenumbers' geographic data.

    A number in one zone gets that zone. A number in several (a mobile range, a
    country spanning zones) gets DAILY_SEND_TIMEZONE when that is one of them,
    else the first; a number in none (or not a number) gets DAILY_SEND_TIMEZONE.
    """
    try:
        zones = number_zones.time_zones_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        zones = ()
    known = [zone for zone in zones if zone != number_zones.UNKNOWN_TIMEZONE]
    if not known or settings.DAILY_SEND_TIMEZONE in known:
        return settings.DAILY_SEND_TIMEZONE
    return known[0]
