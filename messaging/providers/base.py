"""The one interface every provider module implements."""

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from messaging.delivery.error_codes import Action, describe

if TYPE_CHECKING:
    from messaging.models import Message


class ErrorKind(StrEnum):
    # Safe to try again later: throttling, 5xx, connection refused before sending.
    RETRYABLE = "retryable"
    # The provider refused this message for good (bad number, opted out, ...).
    PERMANENT = "permanent"
    # The request may have gone out (timeout after sending, Twilio 20500): never
    # retried automatically, since that could send twice; an operator decides.
    AMBIGUOUS = "ambiguous"
    # Our configuration is wrong (credentials, sender): every send will fail.
    CONFIG = "config"


class Unsent(StrEnum):
    """How an error proves the provider did not send the message: the only errors after
    which another provider may take it (SMS_FAILOVER). Each provider module sets it where
    it classifies its own exceptions; an error without it may have been sent."""

    # The connection failed before any byte of the request went out (refused, DNS).
    NOT_CONNECTED = "not-connected"
    # The provider turned the request away before accepting it, after the client's own
    # retries: throttled (429), or unavailable (503) where its docs say nothing was queued.
    TURNED_AWAY = "turned-away"


@dataclass(frozen=True)
class Sent:
    """A provider accepted the message."""

    provider_message_id: str
    price: Decimal | None = None
    request: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)
    http_status: int | None = None


class ProviderError(Exception):
    def __init__(
        self,
        kind: ErrorKind,
        code: str,
        message: str,
        *,
        request: dict[str, Any] | None = None,
        response: dict[str, Any] | None = None,
        http_status: int | None = None,
        unsent: Unsent | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.kind = kind
        self.code = code
        self.message = message
        self.request = request or {}
        self.response = response or {}
        self.http_status = http_status
        self.unsent = unsent

    @property
    def provably_unsent(self) -> bool:
        return self.unsent is not None


class Provider(Protocol):
    name: str

    def send(self, message: "Message") -> Sent:
        """Hand one message to the provider, or raise ProviderError."""
        ...


def refused(
    code: str,
    message: str,
    *,
    request: dict[str, Any],
    response: dict[str, Any] | None = None,
    http_status: int | None = None,
) -> ProviderError:
    """A final refusal: CONFIG when our setup is at fault, PERMANENT otherwise."""
    known = describe(code)
    kind = (
        ErrorKind.CONFIG if known and known.action == Action.CONFIGURATION else ErrorKind.PERMANENT
    )
    return ProviderError(
        kind, code, message, request=request, response=response, http_status=http_status
    )
