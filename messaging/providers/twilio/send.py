"""Twilio Messages API: SMS and WhatsApp, through the official twilio client."""

import json
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from messaging.models import Message, MessageKind
from messaging.providers.base import ErrorKind, ProviderError, Sent, Unsent, refused
from messaging.providers.twilio import window as whatsapp
from messaging.providers.twilio.client import client
from smsbot.redaction import redact_data
from smsbot.secrets import twilio_credentials
from subscribers.models import Channel

STATUS_CALLBACK_PATH = "/webhooks/twilio/status/"
# The portal's own message id rides on the callback URL (Twilio signs the whole URL,
# query included), so a send whose answer was lost is still known by its callback.
MESSAGE_ID_PARAM = "message"
OUTSIDE_WINDOW = "63016"
THROTTLED = "20429"
# Twilio accepts a ValidityPeriod of 1 to 36,000 seconds (10 hours).
MAX_VALIDITY_SECONDS = 36_000
MAYBE_SENT = "20500"
# Twilio's HTTP 503: "we are temporarily unable to service the request" — turned
# away, not queued; a 500 or a gateway's 502/504 may follow the message's creation.
UNAVAILABLE = 503


def _whatsapp(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


def status_callback(message: Message) -> str:
    query = urlencode({MESSAGE_ID_PARAM: message.pk})
    return f"{settings.PUBLIC_BASE_URL}{STATUS_CALLBACK_PATH}?{query}"


def broadcast_validity_seconds() -> int:
    """TWILIO_BROADCAST_VALIDITY_HOURS in seconds, within Twilio's range."""
    seconds = round(settings.TWILIO_BROADCAST_VALIDITY_HOURS * 3600)
    return min(max(seconds, 1), MAX_VALIDITY_SECONDS)


def _params(message: Message) -> dict[str, str]:
    """The Messages API form for message (Twilio's parameter names).

    A broadcast message expires in Twilio's queue (ValidityPeriod): a daily message held
    there for hours is dropped, not delivered in the evening. Replies and confirmations
    keep Twilio's default.
    """
    params = {"StatusCallback": status_callback(message)}
    if message.kind == MessageKind.BROADCAST:
        params["ValidityPeriod"] = str(broadcast_validity_seconds())
    if message.channel == Channel.WHATSAPP:
        if not settings.TWILIO_WHATSAPP_NUMBER:
            raise _config_error("TWILIO_WHATSAPP_NUMBER is not set")
        params |= {
            "To": _whatsapp(message.phone),
            "From": _whatsapp(settings.TWILIO_WHATSAPP_NUMBER),
        }
        return params | _whatsapp_content(message)
    if settings.TWILIO_MESSAGING_SERVICE_SID:
        params["MessagingServiceSid"] = settings.TWILIO_MESSAGING_SERVICE_SID
    elif settings.TWILIO_SMS_FROM:
        params["From"] = settings.TWILIO_SMS_FROM
    else:
        raise _config_error("set TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID")
    return params | {"To": message.phone, "Body": message.body}


def _whatsapp_content(message: Message) -> dict[str, str]:
    """Free-form inside the 24-hour window; outside it, only an approved template."""
    if message.body and whatsapp.in_window(message.phone):
        return {"Body": message.body}
    if message.content_sid:
        return {
            "ContentSid": message.content_sid,
            "ContentVariables": json.dumps(message.content_variables or {}),
        }
    raise refused(
        OUTSIDE_WINDOW,
        "outside the WhatsApp 24-hour window and no template (ContentSid) for this message",
        request=redact_data({"To": _whatsapp(message.phone)}),
    )


def _config_error(text: str) -> ProviderError:
    return ProviderError(ErrorKind.CONFIG, "config", f"Twilio: {text}")


def _price(value: str | None) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return abs(Decimal(value))  # Twilio reports prices as negative amounts
    except InvalidOperation:
        return None


def _error(
    exc: TwilioRestException | TwilioServiceException, request: dict[str, Any]
) -> ProviderError:
    status = int(exc.status)
    code = str(exc.code or status)
    # The classic error body, or the RFC 9457 one newer Twilio APIs answer with.
    if isinstance(exc, TwilioRestException):
        text, details = exc.msg, exc.details
    else:
        text, details = exc.detail or exc.title, exc.errors
    response = redact_data(
        {"status": status, "code": exc.code, "message": text, "details": details}
    )
    context = {"request": request, "response": response, "http_status": status}
    if status == 429 or code == THROTTLED:
        return ProviderError(
            ErrorKind.RETRYABLE, THROTTLED, text, unsent=Unsent.TURNED_AWAY, **context
        )
    if code == MAYBE_SENT:
        return ProviderError(ErrorKind.AMBIGUOUS, code, text, **context)
    if status == UNAVAILABLE:
        return ProviderError(ErrorKind.RETRYABLE, code, text, unsent=Unsent.TURNED_AWAY, **context)
    if status >= 500:
        return ProviderError(ErrorKind.RETRYABLE, code, text, **context)
    if status == 401:
        return ProviderError(ErrorKind.CONFIG, "20003", text, **context)
    return refused(code, text, **context)


def _not_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection failed before any byte of the request went out."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


class TwilioProvider:
    name = "twilio"

    def send(self, message: Message) -> Sent:
        credentials = twilio_credentials()
        if not credentials:
            raise _config_error("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required")
        params = _params(message)
        url = f"{settings.TWILIO_API_BASE_URL}/2010-04-01/Accounts/{credentials.account_sid}"
        request = redact_data({"method": "POST", "url": f"{url}/Messages.json", "form": params})
        try:
            created = client(credentials).messages.create(**_keywords(params))
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _error(exc, request) from exc
        except requests.ReadTimeout as exc:
            raise ProviderError(
                ErrorKind.AMBIGUOUS, "net:timeout", str(exc), request=request
            ) from exc
        except requests.ConnectionError as exc:
            if _not_sent(exc):
                raise ProviderError(
                    ErrorKind.RETRYABLE,
                    "net:connect",
                    str(exc),
                    request=request,
                    unsent=Unsent.NOT_CONNECTED,
                ) from exc
            raise ProviderError(
                ErrorKind.AMBIGUOUS, "net:timeout", str(exc), request=request
            ) from exc
        response = {
            "sid": created.sid,
            "status": created.status,
            "to": created.to,
            "from": created.from_,
            "messaging_service_sid": created.messaging_service_sid,
            "num_segments": created.num_segments,
            "price": created.price,
            "price_unit": created.price_unit,
            "error_code": created.error_code,
        }
        return Sent(
            provider_message_id=created.sid,
            price=_price(created.price),
            request=request,
            response=redact_data(response),
            http_status=201,
        )


def _keywords(params: dict[str, str]) -> dict[str, str]:
    """Twilio form names -> the client's keyword arguments."""
    names = {
        "To": "to",
        "From": "from_",
        "Body": "body",
        "MessagingServiceSid": "messaging_service_sid",
        "StatusCallback": "status_callback",
        "ContentSid": "content_sid",
        "ContentVariables": "content_variables",
        "ValidityPeriod": "validity_period",
    }
    return {names[key]: value for key, value in params.items()}


def provider() -> TwilioProvider:
    return TwilioProvider()
