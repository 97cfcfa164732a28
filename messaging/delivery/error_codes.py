"""Provider error codes: what each means, and what the portal does about it."""

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    NONE = "none"  # record it
    OPT_OUT = "opt_out"  # the recipient opted out at the provider: record an opt-out
    # AWS holds the number opted out: an opted-in subscriber is shown for review with
    # AWS's reason, consent unchanged (invariant 11: AWS's list may lag a START).
    PROVIDER_OPT_OUT = "provider_opt_out"
    UNDELIVERABLE = "undeliverable"  # mark the number undeliverable; skip it from then on
    RESEND_AS_TEMPLATE = "resend_as_template"  # WhatsApp: outside the 24-hour window
    CONFIGURATION = "configuration"  # our setup is wrong: show it in the admin
    # The account lacks a registration or verification that every such send needs:
    # after REGISTRATION_ERRORS_PAUSE_AFTER of them the broadcast pauses, with a banner.
    REGISTRATION = "registration"
    # Content-blocking: carriers refused the content as spam (Twilio 30007, End User
    # Messaging TEXT_SPAM/TEXT_BLOCKED as eum:Spam/eum:Blocked, SNS's "blocked as spam"). Above
    # CARRIER_FILTER_PERCENT of a broadcast's recent reports the brake pauses it.
    CARRIER_FILTERED = "carrier_filtered"
    # Meta does not deliver marketing templates to US numbers: never retried there;
    # elsewhere (Meta's per-user cap) retried later, as RETRY_LATER.
    MARKETING_TEMPLATE = "marketing_template"
    # The provider will not send to the number's country (Twilio's geo permissions, End
    # User Messaging's protect configuration): that one message is skipped as refused by
    # country or number type, the preview's reason; the rest of the broadcast goes on.
    REFUSED_DESTINATION = "refused_destination"
    # Not now: sent again after a growing delay, up to PROVIDER_RETRY_LIMIT times.
    RETRY_LATER = "retry_later"


@dataclass(frozen=True)
class ErrorCode:
    code: str
    meaning: str
    action: Action = Action.NONE
    fix: str = ""  # what the operator does about it (configuration errors)


_REWORD = (
    "Rewrite the content (no link shorteners, fewer capitals and offers) or register the "
    "use case; then resume or cancel the broadcast"
)
_TWILIO = [
    ErrorCode("20003", "Authentication failed: check the Twilio credentials", Action.CONFIGURATION),
    ErrorCode("20404", "Resource not found", Action.NONE),
    ErrorCode("20429", "Too many requests: Twilio is throttling", Action.NONE),
    ErrorCode("20500", "Twilio internal error: the message may or may not have been sent"),
    ErrorCode("21211", "Invalid 'To' phone number", Action.UNDELIVERABLE),
    ErrorCode("21408", "Permission to send to this region is not enabled (Messaging Geo "
              "Permissions)", Action.REFUSED_DESTINATION),
    ErrorCode("21606", "The 'From' number cannot send this message", Action.CONFIGURATION),
    ErrorCode("21608", "Trial account: the destination number is not verified",
              Action.REGISTRATION,
              "Upgrade the Twilio account (a trial sends only to verified numbers)"),
    ErrorCode("21610", "The recipient replied STOP: messages to this number are blocked",
              Action.OPT_OUT),
    ErrorCode("21612", "The 'To' number cannot be reached from the 'From' number"),
    ErrorCode("21614", "'To' number is not a valid mobile number", Action.UNDELIVERABLE),
    ErrorCode("21617", "The message body exceeds the 1600 character limit"),
    ErrorCode("30001", "Queue overflow: too many messages queued at Twilio"),
    ErrorCode("30002", "Account suspended", Action.CONFIGURATION),
    ErrorCode("30003", "Unreachable destination handset (off or out of coverage)"),
    ErrorCode("30004", "Message blocked (by the recipient or their carrier)"),
    ErrorCode("30005", "Unknown destination handset: the number does not exist",
              Action.UNDELIVERABLE),
    ErrorCode("30006", "Landline or unreachable carrier", Action.UNDELIVERABLE),
    ErrorCode("30007", "Carrier violation: filtered as spam", Action.CARRIER_FILTERED, _REWORD),
    ErrorCode("30008", "Unknown error from the carrier"),
    ErrorCode("30032", "Toll-free number not verified", Action.REGISTRATION,
              "Submit or complete the toll-free verification of TWILIO_SMS_FROM"),
    ErrorCode("30034", "Message from an unregistered US A2P 10DLC number", Action.REGISTRATION,
              "Register a brand and an A2P 10DLC campaign and add the number to the "
              "campaign's Messaging Service"),
    # Broadcast messages carry a ValidityPeriod (TWILIO_BROADCAST_VALIDITY_HOURS): one
    # still in Twilio's queue after it is dropped, on purpose, and reported so.
    ErrorCode("30036", "Validity period expired: the message waited in Twilio's queue "
              "longer than TWILIO_BROADCAST_VALIDITY_HOURS and was dropped"),
    ErrorCode("63016", "WhatsApp: outside the 24-hour window, a template is required",
              Action.RESEND_AS_TEMPLATE),
    ErrorCode("63003", "WhatsApp: the recipient is not a WhatsApp user", Action.UNDELIVERABLE),
    ErrorCode("63018", "WhatsApp: rate limit exceeded for the sender or business portfolio",
              Action.RETRY_LATER),
    ErrorCode("63024", "WhatsApp: invalid recipient (not on WhatsApp, or has not accepted "
              "WhatsApp's terms)", Action.UNDELIVERABLE),
    ErrorCode("63049", "WhatsApp: Meta did not deliver this marketing template (never to US "
              "numbers; elsewhere a per-user cap)", Action.MARKETING_TEMPLATE,
              "Resubmit the template as Utility where the content fits Meta's definition, or "
              "reach US subscribers inside their 24-hour window or on another consented "
              "channel"),
]  # fmt: skip

# Our own codes: SNS answers, incomplete settings, network failures
# (Message.error_code holds 20 characters at most).
_SNS_INVALID_NUMBER = ErrorCode(
    "sns:InvalidParameter", "SNS refused the phone number as invalid", Action.UNDELIVERABLE
)
_SNS_OPTED_OUT = ErrorCode(
    "sns:OptedOut",
    "The number is on AWS's SMS opt-out list (replied STOP to AWS, or a START not yet "
    "taken off the list)",
    Action.PROVIDER_OPT_OUT,
)
# The SMS sandbox sends only to verified destinations: every other number is refused,
# valid or not. A setup matter that stops the broadcast, not a bad number.
_SANDBOX_FIX = (
    "Move the account out of the SMS sandbox (a production access request), or verify the "
    "destination numbers; then resume the broadcast"
)
_SNS = [
    _SNS_INVALID_NUMBER,
    _SNS_OPTED_OUT,
    ErrorCode(
        "sns:Sandbox",
        "SNS SMS sandbox: the destination is not a verified number",
        Action.CONFIGURATION,
        _SANDBOX_FIX,
    ),
    ErrorCode("sns:BadRequest", "SNS refused the request (message or attributes invalid)"),
    ErrorCode(
        "sns:AuthError",
        "AWS credentials are missing or not allowed to publish SMS",
        Action.CONFIGURATION,
    ),
    ErrorCode("sns:Throttling", "SNS is throttling: the SMS rate quota is exceeded"),
    ErrorCode("sns:ServerError", "SNS internal error"),
]
# SNS's delivery log gives a failure's reason as providerResponse text, as AWS documents
# under "SMS delivery failure reasons" (older accounts say "blacklisted" where newer
# ones say "on a blocked list").
_DEST_BLOCKED = ErrorCode("sns:DestBlocked", "The destination is on a blocked list")
_PHONE_BLOCKED = ErrorCode("sns:PhoneBlocked", "The phone is on a blocked list")
_SNS_DELIVERY = {
    "Blocked as spam by phone carrier":
        ErrorCode("sns:Spam", "The carrier blocked it as spam", Action.CARRIER_FILTERED, _REWORD),
    "Destination is blacklisted": _DEST_BLOCKED,
    "Destination is on a blocked list": _DEST_BLOCKED,
    "Invalid phone number": _SNS_INVALID_NUMBER,
    "Message body is invalid": ErrorCode("sns:InvalidBody", "The message body is invalid"),
    "Phone carrier has blocked this message":
        ErrorCode("sns:CarrierBlocked", "The carrier blocked this message"),
    "Phone carrier is currently unreachable/unavailable":
        ErrorCode("sns:CarrierDown", "The carrier is unreachable or unavailable"),
    "Phone has blocked SMS": ErrorCode("sns:PhoneBlocksSms", "The phone blocks SMS"),
    "Phone is blacklisted": _PHONE_BLOCKED,
    "Phone is on a blocked list": _PHONE_BLOCKED,
    "Phone is currently unreachable/unavailable":
        ErrorCode("sns:Unreachable", "The phone is unreachable (off or out of coverage)"),
    "Phone number is opted out": _SNS_OPTED_OUT,
    "This delivery would exceed max price":
        ErrorCode("sns:MaxPrice", "It would have cost more than SNS_MAX_PRICE_USD: not sent"),
    "Unknown error attempting to reach phone":
        ErrorCode("sns:Unknown", "Unknown error attempting to reach the phone"),
}  # fmt: skip
SNS_DELIVERY_FAILED = ErrorCode("sns:Failed", "SNS could not deliver the message")
_SNS_BY_RESPONSE = {text.lower(): code.code for text, code in _SNS_DELIVERY.items()}

# AWS End User Messaging SMS (SMS_PROVIDER=aws-sms): SendTextMessage's refusals, by
# exception and its modelled Reason, and the failure event types of its configuration set.
_EUM = [
    ErrorCode("eum:Throttling", "End User Messaging SMS is throttling (ThrottlingException)"),
    ErrorCode("eum:ServerError", "End User Messaging SMS internal error"),
    ErrorCode(
        "eum:AuthError",
        "AWS credentials are missing or not allowed to send (sms-voice:SendTextMessage), "
        "or the account is disabled",
        Action.CONFIGURATION,
        "Check the portal role's sms-voice permissions (verify_aws) and the account status",
    ),
    ErrorCode(
        "eum:NotVerified",
        "End User Messaging SMS sandbox: the destination is not verified "
        "(DESTINATION_PHONE_NUMBER_NOT_VERIFIED)",
        Action.CONFIGURATION,
        _SANDBOX_FIX,
    ),
    ErrorCode(
        "eum:SpendLimit",
        "The account's monthly SMS spend limit is reached (MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT)",
        Action.CONFIGURATION,
        "Request a spend quota increase, or wait for the next month",
    ),
    ErrorCode(
        "eum:Origination",
        "No usable origination identity, configuration set or registration for this send",
        Action.CONFIGURATION,
        "Check AWS_SMS_ORIGINATION_IDENTITY, its registration and provision_aws",
    ),
    ErrorCode(
        "eum:OptedOut",
        "The number is on the End User Messaging SMS opt-out list "
        "(DESTINATION_PHONE_NUMBER_OPTED_OUT)",
        Action.PROVIDER_OPT_OUT,
    ),
    ErrorCode("eum:InvalidNumber", "AWS refused the phone number as invalid", Action.UNDELIVERABLE),
    ErrorCode(
        "eum:CountryBlocked",
        "The protect configuration blocks the number's country",
        Action.REFUSED_DESTINATION,
    ),
    ErrorCode("eum:MaxPrice", "It would have cost more than the maximum price: not sent"),
    ErrorCode("eum:Quota", "An End User Messaging SMS quota is exceeded"),
    ErrorCode("eum:BadRequest", "End User Messaging SMS refused the request"),
    # Delivery events (TEXT_*), named by the event type.
    # Content-blocking (TEXT_BLOCKED, TEXT_SPAM): what the brake counts.
    ErrorCode(
        "eum:Blocked",
        "The carrier blocked the message (TEXT_BLOCKED)",
        Action.CARRIER_FILTERED,
        _REWORD,
    ),
    ErrorCode("eum:CarrierBlocked", "The carrier blocked the message"),
    ErrorCode(
        "eum:Spam", "The carrier blocked it as spam (TEXT_SPAM)", Action.CARRIER_FILTERED, _REWORD
    ),
    ErrorCode("eum:CarrierDown", "The carrier is unreachable"),
    ErrorCode("eum:Unreachable", "The phone is unreachable (off or out of coverage)"),
    ErrorCode("eum:Invalid", "The destination number is not valid", Action.UNDELIVERABLE),
    ErrorCode("eum:InvalidBody", "The message body is not valid"),
    ErrorCode("eum:TtlExpired", "Not delivered within its time to live: dropped, not sent late"),
    ErrorCode("eum:ProtectBlocked", "The protect configuration blocked the message"),
    ErrorCode("eum:Unknown", "No final status from the carrier within 72 hours"),
]
# SendTextMessage's ConflictException Reason -> our code.
EUM_BY_REASON = {
    "DESTINATION_PHONE_NUMBER_OPTED_OUT": "eum:OptedOut",
    "DESTINATION_PHONE_NUMBER_NOT_VERIFIED": "eum:NotVerified",
}

_PORTAL = [
    ErrorCode("config", "The provider's settings are incomplete", Action.CONFIGURATION),
    ErrorCode("net:connect", "Could not reach the provider: nothing was sent"),
    ErrorCode("net:timeout", "No answer after the request went out: it may have been sent"),
]

# Who reports each code, in the order the message log's error-code dropdown groups them.
_REPORTERS: dict[str, list[ErrorCode]] = {
    "Twilio": _TWILIO,
    "AWS SNS": [*_SNS, *_SNS_DELIVERY.values(), SNS_DELIVERY_FAILED],
    "AWS End User Messaging SMS": _EUM,
    "The portal": _PORTAL,
}
TWILIO_CODES: dict[str, ErrorCode] = {e.code: e for e in _TWILIO}
CODES: dict[str, ErrorCode] = {e.code: e for group in _REPORTERS.values() for e in group}
REPORTED_BY: dict[str, str] = {
    e.code: reporter for reporter, group in _REPORTERS.items() for e in group
}


def describe(code: str | int | None) -> ErrorCode | None:
    """The known error for code, or None (also for an empty code)."""
    if code in (None, ""):
        return None
    text = str(code).strip()
    return CODES.get(text) or ErrorCode(text, f"Provider error {text}")


def help_url(provider: str, code: str) -> str:
    """Twilio's own page for one of its error codes (what causes it, what to do); else ""."""
    return f"https://www.twilio.com/docs/api/errors/{code}" if code in TWILIO_CODES else ""


def codes_with(action: Action) -> list[str]:
    return sorted(code for code, known in CODES.items() if known.action == action)


def meaning(code: str | int | None) -> str:
    known = describe(code)
    return known.meaning if known else ""


def sns_delivery_code(provider_response: str) -> str:
    """Our code for a failed SNS delivery, from the providerResponse of its log line."""
    text = provider_response.strip().rstrip(".").lower()
    return _SNS_BY_RESPONSE.get(text, SNS_DELIVERY_FAILED.code)


# The codes that say the content itself was blocked: what the brake counts apart.
CONTENT_BLOCKING = frozenset(codes_with(Action.CARRIER_FILTERED))
