"""AWS End User Messaging SMS: SMS by SendTextMessage, refusals classified by their code.

Every send names the portal's configuration set, whose event destination publishes
the delivery events to the events topic (events.py), and carries the portal's
message id in Context so an event can settle a send whose answer was lost. A
broadcast message has a TimeToLive: a daily message that could not go out within
AWS_SMS_BROADCAST_TTL_SECONDS is dropped (TEXT_TTL_EXPIRED) instead of landing late.

A refusal is classified by its exception and, where AWS models one, its Reason
(ValidationException, ConflictException, ServiceQuotaExceededException,
AccessDeniedException), never by the wording of its message.
"""

from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from django.conf import settings

from messaging.delivery.error_codes import EUM_BY_REASON
from messaging.models import Message, MessageKind
from messaging.providers.aws_sms import identity
from messaging.providers.base import ErrorKind, ProviderError, Sent, refused
from smsbot import aws
from smsbot.aws_names import CONFIGURATION_SET
from smsbot.redaction import redact_data

SERVICE = "pinpoint-sms-voice-v2"
# ConflictException / ValidationException reasons that mean our setup is wrong:
# the identity, its registration or the configuration set, for every send alike.
ORIGINATION_REASONS = {
    "NO_ORIGINATION_IDENTITIES_FOUND", "INVALID_IDENTITY_FOR_DESTINATION_COUNTRY",
    "REGISTRATION_NOT_COMPLETE", "SENDER_ID_NOT_REGISTERED", "SENDER_ID_REQUIRES_REGISTRATION",
    "SENDER_ID_NOT_SUPPORTED", "RESOURCE_NOT_ACTIVE", "MESSAGE_TYPE_MISMATCH",
    "NUMBER_CAPABILITIES_MISMATCH", "COUNTRY_NOT_ENABLED", "INTERNATIONAL_SENDING_NOT_SUPPORTED",
    "CHANNEL_NOT_ENABLED", "RESOURCE_NOT_ACCESSIBLE",
}  # fmt: skip
COUNTRY_BLOCKED = {
    "DESTINATION_COUNTRY_BLOCKED",
    "DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION",
    "DESTINATION_PHONE_NUMBER_BLOCKED_BY_PROTECT_NUMBER_OVERRIDE",
}
SPEND_LIMIT = "MONTHLY_SPEND_LIMIT_REACHED_FOR_TEXT"


def _no_retry_once_sent(caught_exception: Exception | None = None, **kwargs: Any) -> bool | None:
    """Veto botocore's retry of a request that went out (read timeout, dropped
    connection): AWS may have taken it, and a retry could send the SMS twice."""
    if isinstance(caught_exception, HTTPClientError):
        return False
    return None


def _client() -> Any:
    # Standard mode: ThrottlingException, 5xx and connection failures before sending are
    # retried with exponential back-off and jitter; the portal's limiter keeps the pace.
    client = aws.client(SERVICE, retry_mode="standard", attempts=settings.AWS_SMS_RETRY_ATTEMPTS)
    client.meta.events.register_first(
        "needs-retry.pinpoint-sms-voice-v2.SendTextMessage",
        _no_retry_once_sent,
        unique_id="smsbot-send-text-at-most-once",
    )
    return client


def message_type() -> str:
    return "PROMOTIONAL" if settings.SNS_SMS_TYPE.lower() == "promotional" else "TRANSACTIONAL"


def request(message: Message) -> dict[str, Any]:
    params: dict[str, Any] = {
        "DestinationPhoneNumber": message.phone,
        "MessageBody": message.body,
        "MessageType": message_type(),
        "ConfigurationSetName": aws.resource_name(CONFIGURATION_SET),
        "Context": {"message_id": str(message.pk)},
    }
    # A reply leaves from the number the person texted, if it is ours.
    origination = identity.reply_from(message) or identity.origination_identity()
    if origination:
        params["OriginationIdentity"] = origination
    if message.kind == MessageKind.BROADCAST:
        params["TimeToLive"] = settings.AWS_SMS_BROADCAST_TTL_SECONDS
    return params


def classify(exc: ClientError, record: dict[str, Any]) -> ProviderError:
    """The ProviderError for AWS's answer: by exception code and modelled Reason."""
    error = exc.response.get("Error", {})
    code = error.get("Code", "")
    reason = str(exc.response.get("Reason") or error.get("Reason") or "")
    fields = [f.get("Name") for f in exc.response.get("Fields") or [] if isinstance(f, dict)]
    text = error.get("Message", "") or str(exc)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    context = {
        "request": record,
        "response": redact_data({"Error": error, "Reason": reason, "HTTPStatusCode": status}),
        "http_status": status,
    }
    if code == "ThrottlingException" or status == 429:
        return ProviderError(ErrorKind.RETRYABLE, "eum:Throttling", text, **context)
    if code == "InternalServerException" or (status and status >= 500):
        return ProviderError(ErrorKind.RETRYABLE, "eum:ServerError", text, **context)
    if code in ("AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException"):
        return refused("eum:AuthError", f"{reason or code}: {text}", **context)
    if code == "ServiceQuotaExceededException":
        ours = "eum:SpendLimit" if reason == SPEND_LIMIT else "eum:Quota"
        return refused(ours, f"{reason}: {text}", **context)
    if code == "ResourceNotFoundException":  # the identity or configuration set is missing
        return refused("eum:Origination", text, **context)
    if reason in EUM_BY_REASON:  # opted out (for review, invariant 11), sandbox
        return refused(EUM_BY_REASON[reason], text, **context)
    if reason in COUNTRY_BLOCKED:
        return refused("eum:CountryBlocked", f"{reason}: {text}", **context)
    if reason in ORIGINATION_REASONS:
        return refused("eum:Origination", f"{reason}: {text}", **context)
    if reason == "PRICE_OVER_THRESHOLD":
        return refused("eum:MaxPrice", text, **context)
    if "DestinationPhoneNumber" in fields:
        return refused("eum:InvalidNumber", text, **context)
    return refused("eum:BadRequest", f"{code} {reason}: {text}".strip(), **context)


class AwsSmsProvider:
    name = "aws-sms"

    def send(self, message: Message) -> Sent:
        params = request(message)
        record = redact_data({"operation": "SendTextMessage", **params})
        try:
            answer = _client().send_text_message(**params)
        except ClientError as exc:
            raise classify(exc, record) from exc
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise refused("eum:AuthError", str(exc), request=record) from exc
        except HTTPClientError as exc:
            # The request went out (read timeout, connection dropped): AWS may have sent it.
            raise ProviderError(
                ErrorKind.AMBIGUOUS, "net:timeout", str(exc), request=record
            ) from exc
        except BotoCoreError as exc:
            raise ProviderError(
                ErrorKind.RETRYABLE, "net:connect", str(exc), request=record
            ) from exc
        metadata = answer.get("ResponseMetadata", {})
        return Sent(
            provider_message_id=answer["MessageId"],
            price=None,  # the price comes with the delivery event (totalMessagePrice)
            request=record,
            response={"MessageId": answer["MessageId"], "RequestId": metadata.get("RequestId")},
            http_status=metadata.get("HTTPStatusCode"),
        )


def provider() -> AwsSmsProvider:
    return AwsSmsProvider()


def max_rate() -> float | None:
    """The origination identity's MPS: the most the send rate may be."""
    return identity.mps()
