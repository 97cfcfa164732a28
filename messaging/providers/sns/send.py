"""AWS SNS: SMS by Publish to a phone number.

Refusals are classified by AWS's error code and documented facts, not by words in
a message: OptedOut (the account's opt-out list) is shown for review, never turned
into an opt-out (messaging.delivery.actions); an InvalidParameter about PhoneNumber
or an AuthorizationError while the account is in the SMS sandbox and the number is
not a verified destination is the sandbox's (a configuration error that pauses the
broadcast), else an InvalidParameter about PhoneNumber is an invalid number.
"""

import re
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as NotConnectedError
from botocore.parsers import ResponseParserError
from django.conf import settings

from messaging.models import Message
from messaging.providers.aws_sms import identity
from messaging.providers.base import ErrorKind, ProviderError, Sent, Unsent, refused
from smsbot import aws, sms_account
from smsbot.redaction import redact_data

THROTTLED = {"Throttling", "ThrottlingException", "Throttled", "ThrottledException",
             "TooManyRequests", "TooManyRequestsException", "RequestThrottled"}  # fmt: skip
CREDENTIALS = {"AuthorizationError", "InvalidClientTokenId", "SignatureDoesNotMatch",
               "AccessDenied", "AccessDeniedException", "UnrecognizedClientException",
               "ExpiredToken", "ExpiredTokenException", "MissingAuthenticationToken"}  # fmt: skip


# The only 5xx AWS documents as a request that failed without being acted on
# ("ServiceUnavailable: the request has failed due to a temporary failure of the
# server"); a 500 InternalError or a gateway's 502/504 may follow the Publish.
UNAVAILABLE = 503


def _no_retry_once_sent(
    caught_exception: Exception | None = None,
    response: tuple[Any, dict[str, Any]] | None = None,
    **kwargs: Any,
) -> bool | None:
    """Veto botocore's retry when the Publish request may already have been taken.

    botocore's retry modes retry read timeouts, dropped connections and every 5xx
    too, but then SNS may have taken the first request: a retry could send the SMS
    twice. So the retries left are of requests SNS provably did not act on, and an
    error that surfaces after them says truly whether any attempt was sent.
    botocore acts on the first handler answer that is not None; False means no retry.
    """
    if isinstance(caught_exception, HTTPClientError):  # ReadTimeoutError, ConnectionClosedError
        return False
    status = response[0].status_code if response else None
    if status and status >= 500 and status != UNAVAILABLE:
        return False
    return None


def _client() -> Any:
    # Standard mode: throttling, 5xx and connection failures before sending are
    # retried with exponential back-off and jitter. (Adaptive mode's client-side rate
    # is per process; the dispatcher's global limiter already keeps the pace.)
    client = aws.client("sns", retry_mode="standard", attempts=settings.SNS_RETRY_ATTEMPTS)
    client.meta.events.register_first(
        "needs-retry.sns.Publish", _no_retry_once_sent, unique_id="smsbot-publish-at-most-once"
    )
    return client


def origination_number(message: Message) -> str:
    """The number message leaves from: a reply from the number the person texted (when
    it is ours), anything else from the first of SMS_ORIGINATION_NUMBERS; "" for AWS's
    choice."""
    return identity.reply_from(message) or identity.sns_origination_number()


def _request(message: Message) -> dict[str, Any]:
    attributes = {
        "AWS.SNS.SMS.SMSType": ("String", settings.SNS_SMS_TYPE),
        "AWS.SNS.SMS.SenderID": ("String", settings.SNS_SENDER_ID),
        "AWS.SNS.SMS.MaxPrice": ("Number", str(settings.SNS_MAX_PRICE_USD)),
        # SNS Developer Guide, "Publishing to a mobile phone" ("you can also specify a
        # sender ID or origination number"): the AWS.MM.SMS.OriginationNumber attribute
        # names the account's number (E.164) the message is sent from. Without it AWS
        # picks one, so a reply might not come from the number the person texted, nor a
        # broadcast from the number whose MPS is the pace (max_rate).
        "AWS.MM.SMS.OriginationNumber": ("String", origination_number(message)),
    }
    return {
        "PhoneNumber": message.phone,
        "Message": message.body,
        # An empty setting leaves the attribute to the account's default.
        "MessageAttributes": {
            name: {"DataType": kind, "StringValue": value}
            for name, (kind, value) in attributes.items()
            if value
        },
    }


# SNS's InvalidParameter texts about the destination: "Invalid parameter: PhoneNumber
# Reason: ..." (the parameter named), or the E.164 check's own sentence.
PHONE_PARAMETER = re.compile(
    r"^(Invalid parameter: PhoneNumber\b|Phone number does not meet the E\.?164 format)",
    re.IGNORECASE,
)
# In the SMS sandbox AWS refuses an unverified destination with these codes, in texts
# that do not say "sandbox" (and that InvalidParameter one is also a malformed number's).
SANDBOX_CODES = {"InvalidParameter", "AuthorizationError"}


def _sandbox_refuses(phone: str) -> bool:
    """Whether the account is in SNS's SMS sandbox and phone is not a verified destination.

    Asked only after a refusal; when AWS cannot be asked, the refusal is not blamed
    on the sandbox (nor on the number: see _client_error).
    """
    try:
        sandbox = sms_account.sns_sandbox()
    except (ClientError, BotoCoreError, ResponseParserError, KeyError):
        return False
    return sandbox.in_sandbox and phone not in sandbox.verified


def _client_error(
    exc: ClientError, record: dict[str, Any], *, went_out: bool, phone: str = ""
) -> ProviderError:
    error = exc.response.get("Error", {})
    aws_code = error.get("Code", "")
    text = error.get("Message", "") or str(exc)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    context = {
        "request": record,
        "response": redact_data({"Error": error, "HTTPStatusCode": status}),
        "http_status": status,
    }
    # Past the client's retries (standard mode: SNS_RETRY_ATTEMPTS), all of them
    # turned away too: the failover's "throttled beyond retries".
    if aws_code in THROTTLED or status == 429:
        return ProviderError(
            ErrorKind.RETRYABLE, "sns:Throttling", text, unsent=Unsent.TURNED_AWAY, **context
        )
    if status == UNAVAILABLE:
        return ProviderError(
            ErrorKind.RETRYABLE, "sns:Unavailable", text, unsent=Unsent.TURNED_AWAY, **context
        )
    if status and status >= 500:
        # Before the Publish (the opt-out check) nothing was sent, whatever the 5xx.
        unsent = None if went_out else Unsent.TURNED_AWAY
        return ProviderError(ErrorKind.RETRYABLE, "sns:ServerError", text, unsent=unsent, **context)
    names_phone = aws_code == "InvalidParameter" and bool(PHONE_PARAMETER.match(text))
    if phone and (names_phone or aws_code == "AuthorizationError") and _sandbox_refuses(phone):
        return refused("sns:Sandbox", f"{aws_code}: {text}", **context)
    if aws_code in CREDENTIALS or status in (401, 403):
        return refused("sns:AuthError", text, **context)
    if aws_code == "OptedOut":
        return refused("sns:OptedOut", text, **context)
    if names_phone:
        return refused("sns:InvalidParameter", text, **context)
    return refused("sns:BadRequest", f"{aws_code}: {text}", **context)


def _transport_error(
    exc: BotoCoreError, record: dict[str, Any], *, went_out: bool
) -> ProviderError:
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return refused("sns:AuthError", str(exc), request=record)
    if went_out and isinstance(exc, HTTPClientError):
        # The Publish went out (read timeout, connection dropped): SNS may have sent it.
        return ProviderError(ErrorKind.AMBIGUOUS, "net:timeout", str(exc), request=record)
    # EndpointConnectionError (refused, DNS), ConnectTimeoutError, or anything before the
    # Publish (the opt-out check): nothing was sent.
    unsent = Unsent.NOT_CONNECTED if not went_out or isinstance(exc, NotConnectedError) else None
    return ProviderError(
        ErrorKind.RETRYABLE, "net:connect", str(exc), request=record, unsent=unsent
    )


class SnsProvider:
    name = "sns"

    def send(self, message: Message) -> Sent:
        params = _request(message)
        record = redact_data({"operation": "Publish", **params})
        client = _client()
        if settings.SNS_CHECK_OPT_OUT and self._opted_out(client, message.phone):
            raise refused(
                "sns:OptedOut",
                "the number opted out of SMS at AWS (CheckIfPhoneNumberIsOptedOut)",
                request=record,
                response={"isOptedOut": True},
            )
        try:
            answer = client.publish(**params)
        except ClientError as exc:
            raise _client_error(exc, record, went_out=True, phone=message.phone) from exc
        except BotoCoreError as exc:
            raise _transport_error(exc, record, went_out=True) from exc
        metadata = answer.get("ResponseMetadata", {})
        return Sent(
            provider_message_id=answer["MessageId"],
            price=None,  # SNS reports the price only in its delivery-status logs
            request=record,
            response={"MessageId": answer["MessageId"], "RequestId": metadata.get("RequestId")},
            http_status=metadata.get("HTTPStatusCode"),
        )

    @staticmethod
    def _opted_out(client: Any, phone: str) -> bool:
        """Whether the number replied STOP to AWS, which the portal may not have heard."""
        record = redact_data({"operation": "CheckIfPhoneNumberIsOptedOut", "phoneNumber": phone})
        try:
            answer = client.check_if_phone_number_is_opted_out(phoneNumber=phone)
        except ClientError as exc:
            raise _client_error(exc, record, went_out=False) from exc
        except BotoCoreError as exc:
            raise _transport_error(exc, record, went_out=False) from exc
        return bool(answer.get("isOptedOut"))


def provider() -> SnsProvider:
    return SnsProvider()


def max_rate() -> float | None:
    """The MPS of the number SNS is told to send from (read through End User Messaging
    SMS's DescribePhoneNumbers, where SNS's numbers live too); None with no number named
    (AWS picks one) or no End User Messaging SMS to ask (a local emulator without it):
    SMS_SEND_RATE alone holds."""
    number = identity.sns_origination_number()
    return identity.mps(number) if number and aws.has_sms_voice() else None
