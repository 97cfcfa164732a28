"""Fixtures for the sending pipeline: a recording provider, subscribers, waiting."""

import time
from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache

from subscribers import consent
from subscribers.models import Subscriber
from tests.fakes.twilio_server import FakeTwilio
from tests.messaging.pipeline import recording_provider

SMS_FROM = "+13125550100"


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    # Spend totals, progress throttles and configuration banners live in the cache.
    from messaging.outbound import bulk_send

    cache.clear()
    yield
    cache.clear()
    bulk_send.shutdown()  # its threads' database connections must not outlive the test


@pytest.fixture
def recording(settings, monkeypatch) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """Every send goes to the recording provider; a high rate unless a test lowers it."""
    from messaging.providers.registry import MODULES

    monkeypatch.setitem(MODULES, recording_provider.NAME, recording_provider.__name__)
    settings.SMS_PROVIDER = recording_provider.NAME
    settings.SMS_SEND_RATE = 1000
    settings.SEND_RETRY_BASE_SECONDS = 0.2
    settings.SEND_RETRY_MAX_SECONDS = 1
    recording_provider.reset()
    yield recording_provider
    recording_provider.reset()


def opted_in(n: int, start: int = 100, channel: str = "sms") -> list[Subscriber]:
    """n opted-in subscribers on fictional numbers +1312555{start}..."""
    subscribers = []
    for i in range(n):
        phone = f"+1312555{start + i:04d}"
        change = consent.change(phone, "opted_in", "admin", {"test": True}, channel=channel)
        subscribers.append(change.subscriber)
    return subscribers


def wait_for(predicate: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def twilio(settings) -> Iterator[FakeTwilio]:  # type: ignore[no-untyped-def]
    """The Twilio client pointed at the fake Twilio server, sending SMS from SMS_FROM."""
    with FakeTwilio() as server:
        for name, value in server.settings().items():
            setattr(settings, name, value)
        settings.TWILIO_SMS_FROM = SMS_FROM
        settings.TWILIO_MESSAGING_SERVICE_SID = ""
        settings.TWILIO_TIMEOUT_SECONDS = 1.0
        yield server
