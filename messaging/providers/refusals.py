"""Turning a provider's refusal code into the ProviderError the dispatcher acts on."""

from typing import Any

from messaging.error_codes import Action, describe
from messaging.providers.base import ErrorKind, ProviderError


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
