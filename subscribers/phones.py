"""Phone number parsing: every number is stored in E.164.

normalize() reads any number, as every webhook must (a STOP is honoured from
whatever sender). Numbers that enter as subscribers pass check_subscriber()
too, and public sign-ups check_signup().
"""

from collections.abc import Collection

import phonenumbers
from django.conf import settings
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as number_zones

WHATSAPP_PREFIX = "whatsapp:"

# Number types that cost the sender more than a mobile number, or that no person
# reads messages on: the numbers SMS pumping uses (phonenumbers.number_type).
REFUSED_TYPES = {
    PhoneNumberType.PREMIUM_RATE: "premium-rate",
    PhoneNumberType.SHARED_COST: "shared-cost",
    PhoneNumberType.TOLL_FREE: "toll-free",
    PhoneNumberType.UAN: "universal access (UAN)",
    PhoneNumberType.VOICEMAIL: "voicemail access",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.PERSONAL_NUMBER: "personal (follow-me)",
}
# NANP ranges that are not a person's phone in a place, judged by the digits
# themselves because phonenumbers' types lag NANPA's assignments (it may call one
# FIXED_LINE_OR_MOBILE). Area codes whose last two digits are equal (N00, N11, …,
# N99: 500, 533, 600, 622, 700, 800, 900, 211 …) are NANPA's "easily recognizable
# codes", kept for services and never geographic.
# 5XX non-geographic codes of personal communications services (the ERCs among them,
# such as 500 and 533, are refused by the rule above).
PCS_AREA_CODES = (*range(521, 530), 532, 535, 538, 542, 543, 545, 546, 547, 549, 550)
PCS_AREA_CODES += (552, 553, 554, 556, 558, 569, 578, 589)
NANP_SERVICE_AREA_CODES = {
    **dict.fromkeys(PCS_AREA_CODES, "personal communications (5XX)"),
    456: "inbound international",
    710: "US government",
    **dict.fromkeys((880, 881, 882, 883, 884, 885, 886, 887, 889), "paid toll-free"),
}
# 555-0100 to 555-0199 are NANPA's fictional numbers (the portal's tests and demo use
# them); the rest of 555 is directory and information services.
FICTIONAL_555 = range(100, 200)
# phonenumbers' region for numbers of no country: satellite services (+870, +881),
# international networks (+882, +883), international freephone and premium rate.
NON_GEOGRAPHIC_REGION = "001"
ANY_REGION = "*"


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


def region_of(e164: str) -> str:
    """The region libphonenumber assigns the number ("US", "CA"...), or "" when unknown."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or ""
    except phonenumbers.NumberParseException:
        return ""


def check_subscriber(e164: str, allowed_regions: Collection[str] = (ANY_REGION,)) -> None:
    """Raise InvalidPhone unless the number may become a subscriber: not a type that
    costs or misleads, not a non-geographic or special-service range, and from one of
    allowed_regions. Every door a number enters by asks this (form, API, CSV import in
    the admin or by command, the admin's test send)."""
    parsed = phonenumbers.parse(e164)
    refused = REFUSED_TYPES.get(phonenumbers.number_type(parsed))
    if refused:
        raise InvalidPhone(f"{refused} numbers cannot subscribe")
    if parsed.country_code == 1:
        _check_nanp(phonenumbers.national_significant_number(parsed))
    region = phonenumbers.region_code_for_number(parsed) or ""
    if region == NON_GEOGRAPHIC_REGION:
        raise InvalidPhone("satellite and other non-geographic numbers cannot subscribe")
    if ANY_REGION not in allowed_regions and region not in allowed_regions:
        raise InvalidPhone(
            f"numbers from {region or 'this region'} cannot sign up here "
            f"(allowed: {', '.join(allowed_regions)})"
        )


def _check_nanp(national: str) -> None:
    """Refuse NANP service and non-geographic ranges by the class of their digits."""
    area, exchange, line = national[:3], national[3:6], int(national[6:])
    if area[1] == area[2]:
        raise InvalidPhone(f"area code {area} is a service code, not a place: it cannot subscribe")
    service = NANP_SERVICE_AREA_CODES.get(int(area))
    if service:
        raise InvalidPhone(f"{service} numbers (area code {area}) cannot subscribe")
    if exchange[1:] == "11":
        raise InvalidPhone(f"{exchange} is a service code (N11), not a phone: it cannot subscribe")
    if exchange == "555" and line not in FICTIONAL_555:
        raise InvalidPhone("555 directory and information numbers cannot subscribe")


def refused_destination(e164: str) -> str:
    """Why no broadcast goes to this number ("" when one may): a type no door takes any
    more (premium, satellite, service codes), from a subscriber who joined before the
    rule. The preview counts such numbers as refused by country or number type, and the
    send skips each one for that reason: the same rule before and after."""
    try:
        check_subscriber(e164)
    except (InvalidPhone, phonenumbers.NumberParseException) as refused:
        return str(refused)
    return ""


def check_signup(e164: str) -> None:
    """check_subscriber for a sign-up from the public: OPTIN_ALLOWED_COUNTRIES apply."""
    check_subscriber(e164, settings.OPTIN_ALLOWED_COUNTRIES)


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
