"""A test provider: records every send (in memory and, if asked, in a file), with
configurable latency and per-number failures. Registered as "recording" by the tests,
the bench and the worker subprocess; never part of the application."""

import os
import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from messaging.providers.base import ProviderError, Sent
from messaging.providers.registry import MODULES

NAME = "recording"

SENT: list[int] = []
FAILURES: dict[str, list[ProviderError]] = {}  # phone -> errors raised on successive sends
HOOKS: list[Callable[[object], None]] = []  # run inside each send (e.g. a STOP landing mid-call)
PRICE: Decimal | None = None
_lock = threading.Lock()


def register() -> None:
    MODULES[NAME] = __name__


def reset() -> None:
    global PRICE
    SENT.clear()
    FAILURES.clear()
    HOOKS.clear()
    PRICE = None


class RecordingProvider:
    name = NAME

    def send(self, message) -> Sent:  # type: ignore[no-untyped-def]
        latency = float(os.environ.get("RECORDING_LATENCY", "0"))
        if latency:
            time.sleep(latency)
        log = os.environ.get("RECORDING_LOG")
        if log:
            # O_APPEND writes of one short line are atomic across processes.
            with Path(log).open("a") as f:
                f.write(f"{message.pk}\n")
        with _lock:
            SENT.append(message.pk)
            errors = FAILURES.get(message.phone)
            error = errors.pop(0) if errors else None
        for hook in list(HOOKS):
            hook(message)
        request = {"to": message.phone, "body": message.body, "content_sid": message.content_sid}
        if error is not None:
            error.request = request
            raise error
        pid = f"rec-{uuid.uuid4().hex}"
        return Sent(provider_message_id=pid, price=PRICE, request=request, response={"sid": pid})


def provider() -> RecordingProvider:
    return RecordingProvider()
