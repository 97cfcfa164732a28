"""Fixtures for the sending pipeline: a recording provider, subscribers, waiting."""

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from django.core.cache import cache

from smsbot import aws as smsbot_aws
from smsbot.provisioning import iam
from smsbot.provisioning.core import Context
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


# What a test does itself to stand in for AWS (create the inbound topic, subscribe the
# live portal), and what needs no permission at all.
NOT_THE_PORTALS = {"sns:CreateTopic", "sns:Subscribe", "sts:GetCallerIdentity"}


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """Every AWS action the portal's clients call during the test, as IAM names it
    (signing name:operation), whichever thread calls it (the worker's included)."""
    seen: set[str] = set()
    lock = threading.Lock()
    made = boto3.session.Session.client

    def client(self: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
        found = made(self, *args, **kwargs)
        # IAM's service prefix: the signing name, but CloudWatch signs as "monitoring".
        signing = found.meta.service_model.signing_name
        prefix = {"monitoring": "cloudwatch"}.get(signing, signing)

        def record(**event: Any) -> None:
            with lock:
                seen.add(f"{prefix}:{event['model'].name}")

        found.meta.events.register("before-call", record)
        return found

    monkeypatch.setattr(boto3.session.Session, "client", client)
    smsbot_aws._client.cache_clear()
    yield seen
    smsbot_aws._client.cache_clear()


def not_granted(calls: set[str]) -> set[str]:
    """The calls the least-privilege portal role (what provision_aws puts in IAM,
    tests/provisioning/test_least_privilege.py) does not allow."""
    policy = iam.portal_policy(Context("123456789012", "us-east-1"))
    allowed = {
        action for statement in policy["Statement"] for action in iam_list(statement["Action"])
    }
    return calls - allowed - NOT_THE_PORTALS


def iam_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value
