"""Twilio's checklist: may this account send what the portal will send? (verify_twilio)

Each check reads the account over Twilio's API and answers ✓ or ✗ with what to
do; README › Twilio account checks describes each. The sender checks follow the
settings: a Messaging Service (TWILIO_MESSAGING_SERVICE_SID) or a number
(TWILIO_SMS_FROM). A US sender needs an approved A2P 10DLC campaign on its
Messaging Service or, for a toll-free number, an approved toll-free
verification. The daily WhatsApp templates (of the days from today on) must be
approved, and not Marketing while US WhatsApp subscribers exist: since April
2025 Meta delivers no marketing template to US numbers (error 63049).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import phonenumbers
import requests
from django.conf import settings
from django.utils import timezone
from twilio.base.exceptions import TwilioException, TwilioRestException

from messaging.models import DailyContent
from messaging.providers.twilio.client import NotConfigured, client
from messaging.providers.twilio.send import STATUS_CALLBACK_PATH
from subscribers.models import Channel, ConsentStatus, Subscriber
from subscribers.phones import region_of

INBOUND_PATH = "/webhooks/twilio/inbound/"
A2P_APPROVED = "VERIFIED"
TOLLFREE_APPROVED = "TWILIO_APPROVED"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""  # what to do, for a failed check

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        text = f"{mark} {self.name}: {self.detail}"
        return text if self.ok else f"{text} — {self.fix}"


def run() -> list[Check]:
    """Every check, in order; a check that cannot reach Twilio fails with the reason.

    Without working credentials nothing else can be read: the run stops there.
    """
    try:
        twilio = client()
    except NotConfigured as exc:
        return [Check("credentials", False, str(exc), "set them (README › Configuration)")]
    results: list[Check] = []
    for check in CHECKS:
        try:
            results.extend(check(twilio))
        except (TwilioException, requests.RequestException) as exc:
            results.append(_unanswered(check.__name__.strip("_").replace("_", " "), exc))
        if not results[0].ok:
            break
    return results


def _unanswered(name: str, exc: Exception) -> Check:
    if isinstance(exc, TwilioRestException):
        detail = f"Twilio answered {exc.status} ({exc.code}): {exc.msg}"
    elif isinstance(exc, TwilioException):
        detail = f"Twilio refused: {exc.args[0] if exc.args else exc}"
    else:
        return Check(name, False, f"Twilio unreachable: {type(exc).__name__}",
                     "check the network and TWILIO_API_BASE_URL")  # fmt: skip
    return Check(name, False, detail, "check the credentials and the SIDs in the settings")


def _credentials(twilio) -> Iterator[Check]:  # type: ignore[no-untyped-def]
    account = twilio.api.v2010.accounts(twilio.account_sid).fetch()
    if account.status != "active":
        yield Check(
            "credentials",
            False,
            f"the account is {account.status}",
            "reactivate the account in Twilio's console",
        )
        return
    yield Check("credentials", True, f"account {account.sid} is active ({account.type})")
    if account.type == "Trial":
        # Its own line, after a passing credentials check, so that the rest of the list
        # is still read: a new account is often a trial one, and its operator needs to
        # see the registrations and templates to prepare before upgrading.
        yield Check(
            "account type",
            False,
            "a trial account: it sends only to verified numbers (error 21608)",
            "upgrade the account in Twilio's console",
        )


def _service(twilio):  # type: ignore[no-untyped-def]
    return twilio.messaging.v1.services(settings.TWILIO_MESSAGING_SERVICE_SID).fetch()


def _number(twilio):  # type: ignore[no-untyped-def]
    found = twilio.incoming_phone_numbers.list(phone_number=settings.TWILIO_SMS_FROM, limit=1)
    return found[0] if found else None


def _sender(twilio) -> Iterator[Check]:  # type: ignore[no-untyped-def]
    if settings.TWILIO_MESSAGING_SERVICE_SID:
        try:
            service = _service(twilio)
        except TwilioRestException as exc:
            if exc.status != 404:
                raise
            yield Check(
                "sender",
                False,
                f"Messaging Service "
                f"{settings.TWILIO_MESSAGING_SERVICE_SID} does not exist in this account",
                "set TWILIO_MESSAGING_SERVICE_SID to a service of this account",
            )
            return
        yield Check("sender", True, f"Messaging Service {service.sid} ({service.friendly_name})")
    elif settings.TWILIO_SMS_FROM:
        if _number(twilio) is None:
            yield Check(
                "sender",
                False,
                "TWILIO_SMS_FROM is not a number of this account",
                "buy or port the number, or set TWILIO_SMS_FROM to one of the account's numbers",
            )
        else:
            yield Check("sender", True, "TWILIO_SMS_FROM is a number of this account")
    else:
        yield Check(
            "sender", False, "no SMS sender", "set TWILIO_MESSAGING_SERVICE_SID or TWILIO_SMS_FROM"
        )


def _sends_to_us() -> bool:
    allowed = settings.OPTIN_ALLOWED_COUNTRIES
    return "US" in allowed or "*" in allowed or _subscribers_in_us(Channel.SMS)


def _subscribers_in_us(channel: str) -> bool:
    phones = Subscriber.objects.filter(
        channel=channel, consent_status=ConsentStatus.OPTED_IN, phone__startswith="+1"
    ).values_list("phone", flat=True)
    return any(region_of(phone) == "US" for phone in phones.iterator())


def is_toll_free(phone: str) -> bool:
    try:
        parsed = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.TOLL_FREE


def _us_registration(twilio) -> Iterator[Check]:  # type: ignore[no-untyped-def]
    if not _sends_to_us():
        yield Check("US registration", True, "no US recipients: not needed")
        return
    sid = settings.TWILIO_MESSAGING_SERVICE_SID
    if sid:
        campaigns = twilio.messaging.v1.services(sid).us_app_to_person.list(limit=5)
        statuses = [c.campaign_status for c in campaigns]
        if A2P_APPROVED in statuses:
            yield Check("A2P 10DLC campaign", True, f"Messaging Service {sid}: {A2P_APPROVED}")
        else:
            yield Check(
                "A2P 10DLC campaign",
                False,
                f"Messaging Service {sid}: {', '.join(statuses) or 'no campaign'}",
                "register a brand and an A2P 10DLC campaign for this Messaging "
                "Service in Twilio's console, and wait for VERIFIED (until then US "
                "messages fail with 30034)",
            )
        return
    number = settings.TWILIO_SMS_FROM
    if number and is_toll_free(number):
        found = _number(twilio)
        verifications = (
            twilio.messaging.v1.tollfree_verifications.list(
                tollfree_phone_number_sid=found.sid, limit=5
            )
            if found
            else []
        )
        statuses = [v.status for v in verifications]
        if TOLLFREE_APPROVED in statuses:
            yield Check("toll-free verification", True, f"{TOLLFREE_APPROVED}")
        else:
            yield Check(
                "toll-free verification",
                False,
                ", ".join(statuses) or "not submitted",
                "submit the toll-free verification in Twilio's console and wait for "
                "TWILIO_APPROVED (until then messages fail with 30032)",
            )
        return
    yield Check(
        "A2P 10DLC campaign",
        False,
        "a US long code outside a Messaging Service",
        "put the number in a Messaging Service with an approved A2P 10DLC campaign "
        "and set TWILIO_MESSAGING_SERVICE_SID (unregistered: error 30034)",
    )


def _daily_templates() -> list[str]:
    today = timezone.localdate()
    sids = (
        DailyContent.objects.filter(date__gte=today)
        .exclude(whatsapp_content_sid="")
        .order_by("whatsapp_content_sid")
        .values_list("whatsapp_content_sid", flat=True)
        .distinct()
    )
    return list(sids[:10])


def _whatsapp_templates(twilio) -> Iterator[Check]:  # type: ignore[no-untyped-def]
    if not settings.TWILIO_WHATSAPP_NUMBER:
        yield Check("WhatsApp template", True, "WhatsApp is not set up: not needed")
        return
    sids = _daily_templates()
    if not sids:
        yield Check(
            "WhatsApp template",
            False,
            "no daily content has a WhatsApp template",
            "add the approved template's ContentSid to the daily content: outside "
            "their 24-hour window WhatsApp subscribers get nothing else",
        )
        return
    us_subscribers = None
    for sid in sids:
        approval = twilio.content.v1.contents(sid).approval_fetch().fetch()
        whatsapp = approval.whatsapp or {}
        status = str(whatsapp.get("status", "")).lower()
        category = str(whatsapp.get("category", "")).upper()
        name = f"WhatsApp template {sid}"
        if status != "approved":
            yield Check(
                name,
                False,
                f"WhatsApp approval is {status or 'not requested'}",
                "submit the template for WhatsApp approval in Twilio's Content "
                "Template Builder and wait for approved",
            )
            continue
        if category == "MARKETING":
            if us_subscribers is None:
                us_subscribers = _subscribers_in_us(Channel.WHATSAPP)
            if us_subscribers:
                yield Check(
                    name,
                    False,
                    "approved as MARKETING while US WhatsApp subscribers "
                    "exist: Meta delivers no marketing template to US numbers (63049)",
                    "resubmit it as Utility where the content fits Meta's definition, "
                    "or reach those subscribers inside their 24-hour window or on "
                    "another channel they consented to",
                )
                continue
        yield Check(name, True, f"approved ({category or 'no category'})")


def _webhooks(twilio) -> Iterator[Check]:  # type: ignore[no-untyped-def]
    inbound = settings.PUBLIC_BASE_URL + INBOUND_PATH
    status = settings.PUBLIC_BASE_URL + STATUS_CALLBACK_PATH
    fix = (
        f"set the incoming-message webhook to {inbound} (POST) and the status callback "
        f"to {status} or nothing (the portal sets one on every message)"
    )
    if settings.TWILIO_MESSAGING_SERVICE_SID:
        service = _service(twilio)
        if service.use_inbound_webhook_on_number:
            number = _number(twilio) if settings.TWILIO_SMS_FROM else None
            urls = (number.sms_url, number.status_callback) if number else ("", "")
        else:
            urls = (service.inbound_request_url, service.status_callback)
        where = f"Messaging Service {service.sid}"
    elif settings.TWILIO_SMS_FROM:
        number = _number(twilio)
        if number is None:
            return  # the sender check said so
        urls, where = (number.sms_url, number.status_callback), "the number"
    else:
        return
    inbound_url, callback_url = (u or "" for u in urls)
    good = inbound_url == inbound and callback_url in ("", status)
    shown = f"{where}: incoming {inbound_url or 'unset'}, status {callback_url or 'unset'}"
    yield Check("webhook URLs", good, shown, "" if good else fix)


CHECKS: list[Callable[..., Iterator[Check]]] = [
    _credentials,
    _sender,
    _us_registration,
    _whatsapp_templates,
    _webhooks,
]
