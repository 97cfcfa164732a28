"""Amazon SES v2: one e-mail by SendEmail, through django-anymail's Amazon SES backend.

Anymail builds the MIME message (plain text, HTML, our headers) and calls sesv2
SendEmail with our configuration set, whose event destination carries bounces and
complaints to the feedback topic. botocore does not retry here (max_attempts=1): a
retried SendEmail after a read timeout could send twice, and the dispatcher's own
retry takes only errors that prove nothing was sent.
"""

from typing import Any

from anymail.exceptions import AnymailError
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from messaging.models import Message, Provider
from messaging.providers.base import ErrorKind, ProviderError, Sent
from messaging.providers.ses.render import render
from smsbot import aws
from smsbot.aws import resource_name
from smsbot.aws_names import SES_CONFIGURATION_SET
from smsbot.redaction import redact_data

BACKEND = "anymail.backends.amazon_ses.EmailBackend"
THROTTLED = {"TooManyRequestsException", "Throttling", "ThrottlingException",
             "LimitExceededException"}  # fmt: skip
# Our side is wrong: every send would fail until an operator fixes it.
CONFIGURATION = {"AccountSuspendedException", "SendingPausedException",
                 "MailFromDomainNotVerifiedException", "NotFoundException",
                 "AccessDeniedException", "UnrecognizedClientException",
                 "InvalidClientTokenId", "SignatureDoesNotMatch"}  # fmt: skip


def connection() -> Any:
    """Anymail's SES backend on the portal's one cached sesv2 client (smsbot.aws).

    Anymail would build a boto3 session and client on every send (~0.1 s of CPU each,
    held under the GIL by the worker's send threads); a client is thread-safe and
    keeps its connection pool, so every send shares it. Handed an open client, the
    backend neither builds another nor closes it after sending.
    """
    backend = get_connection(BACKEND, configuration_set_name=resource_name(SES_CONFIGURATION_SET))
    backend.client = aws.client("sesv2", attempts=1)
    return backend


def _error(exc: AnymailError, record: dict[str, Any]) -> ProviderError:
    cause = exc.__cause__
    if isinstance(cause, ClientError):
        error = cause.response.get("Error", {})
        code = error.get("Code", "")
        status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        context = {
            "request": record,
            "response": redact_data({"Error": error, "HTTPStatusCode": status}),
            "http_status": status,
        }
        text = error.get("Message", "") or str(cause)
        if code in THROTTLED or status == 429:
            return ProviderError(ErrorKind.RETRYABLE, "ses:Throttling", text, **context)
        if status and status >= 500:
            return ProviderError(ErrorKind.RETRYABLE, "ses:ServerError", text, **context)
        if code in CONFIGURATION:
            return ProviderError(ErrorKind.CONFIG, f"ses:{code}"[:20], text, **context)
        return ProviderError(ErrorKind.PERMANENT, f"ses:{code or 'Rejected'}"[:20], text, **context)
    if isinstance(cause, HTTPClientError):
        # The request went out (read timeout, dropped connection): SES may have sent it.
        return ProviderError(ErrorKind.AMBIGUOUS, "net:timeout", str(cause), request=record)
    if isinstance(cause, BotoCoreError):
        return ProviderError(ErrorKind.RETRYABLE, "net:connect", str(cause), request=record)
    return ProviderError(ErrorKind.AMBIGUOUS, "ses:unexpected", str(exc), request=record)


class SesProvider:
    name = Provider.SES

    def send(self, message: Message) -> Sent:
        subscriber = message.subscriber
        if subscriber is None or not subscriber.email:
            raise ProviderError(ErrorKind.PERMANENT, "ses:NoAddress", "no e-mail address")
        email = render(message, subscriber)
        record = redact_data(
            {"operation": "SendEmail", "subject": email.subject, "kind": message.kind}
        )
        mail = EmailMultiAlternatives(
            subject=email.subject,
            body=email.text,
            from_email=settings.EMAIL_FROM,
            to=[email.to],
            headers=email.headers,
            connection=connection(),
        )
        mail.attach_alternative(email.html, "text/html")
        try:
            mail.send()
        except AnymailError as exc:
            raise _error(exc, record) from exc
        message_id = mail.anymail_status.message_id
        return Sent(
            provider_message_id=str(message_id),
            price=None,  # SES bills by volume; the estimate is its price
            request=record,
            response={"MessageId": message_id, "status": sorted(mail.anymail_status.status)},
            http_status=200,
        )


def provider() -> SesProvider:
    return SesProvider()
