"""Shared fixtures: a real Celery worker, moto's server, test artifacts."""

import contextlib
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.fakes.aws_sms_server import FakeSmsVoice
    from tests.fakes.sns_sandbox import SnsSandbox

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# The `clock` fixture: the portal's time set by the test.
pytest_plugins = ["tests.clock"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """The cache outlives a test: when the rollups last ran, the per-number reply
    counters and the once-a-day STOP/HELP answers must not leak into the next one.

    Django's content-type cache is per process too: a content type made inside a
    rolled-back test, or before a transactional test's flush, would be served
    from it by id after the row is gone (the admin log's foreign key then fails).
    """
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache

    cache.clear()
    ContentType.objects.clear_cache()
    yield
    cache.clear()
    ContentType.objects.clear_cache()


@pytest.fixture
def artifacts_dir(request: pytest.FixtureRequest) -> Path:
    path = ARTIFACTS / request.node.name.replace("/", "_")
    path.mkdir(parents=True, exist_ok=True)
    return path


def purge_queues() -> None:
    from smsbot.celery import BULK_QUEUE, MIRROR_QUEUE, REPLIES_QUEUE, app

    with app.connection_for_write() as conn:
        channel = conn.default_channel
        for queue in (REPLIES_QUEUE, MIRROR_QUEUE, BULK_QUEUE):
            # A queue that does not exist yet is empty.
            with contextlib.suppress(Exception):
                channel.queue_purge(queue)


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[object]:
    """A real Celery worker on the configured broker, serving every queue.

    Tasks run in a thread of this process against the same test database, so
    tests using it need committed data (the fixture implies transactional_db).
    """
    from celery.contrib.testing.worker import start_worker

    from smsbot.celery import BULK_QUEUE, MIRROR_QUEUE, REPLIES_QUEUE, app

    purge_queues()
    with start_worker(
        app,
        pool="threads",
        concurrency=2,
        perform_ping_check=False,
        queues=[REPLIES_QUEUE, MIRROR_QUEUE, BULK_QUEUE],
        shutdown_timeout=30,
        loglevel="WARNING",
    ) as worker:
        yield worker
    purge_queues()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's server over real HTTP; AWS_ENDPOINT_URL points every client at it."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = url
    yield url
    server.stop()
    if previous is None:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    else:
        os.environ["AWS_ENDPOINT_URL"] = previous


@pytest.fixture
def aws(moto_server: str, settings: object) -> Iterator[str]:
    """A clean moto account for one test, with settings pointing at it."""
    import requests

    settings.AWS_ENDPOINT_URL = moto_server  # type: ignore[attr-defined]
    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    yield moto_server


@pytest.fixture
def aws_sms(settings: object) -> Iterator["FakeSmsVoice"]:
    """A fresh AWS End User Messaging SMS account (tests/fakes/aws_sms_server.py), which
    moto lacks, at its own endpoint (AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2)."""
    from tests.fakes.aws_sms_server import FakeSmsVoice

    with FakeSmsVoice() as fake:
        settings.AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2 = fake.url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def sns_sandbox(aws: str, settings: object) -> Iterator["SnsSandbox"]:
    """SNS's SMS sandbox (which moto lacks) answered in front of moto; a new account's."""
    from tests.fakes.faulty_proxy import FaultyProxy
    from tests.fakes.sns_sandbox import SnsSandbox

    sandbox = SnsSandbox()
    with FaultyProxy(aws, answers=sandbox) as proxy:
        settings.AWS_ENDPOINT_URL = proxy.url  # type: ignore[attr-defined]
        yield sandbox


@pytest.fixture(autouse=True)
def _outbox_breaker_closed() -> None:
    """Each test starts with the broker trusted: a failure in one must not hold the next."""
    from smsbot import outbox

    outbox.breaker.reset()


@pytest.fixture
def broker_down() -> Iterator[Callable[[], None]]:
    """Point the Celery app at a broker address nothing listens on, then restore it.

    The transport options are the production ones for Redis, so what is measured
    is what a deployment does. Yields back(): the broker answers again.
    """
    from django.conf import settings as django_settings

    from smsbot import outbox
    from smsbot.celery import app

    def reset_pools() -> None:
        # Drop (without closing) the cached pools so the next publish connects anew.
        app._pool = None
        app.amqp._producer_pool = None

    def back() -> None:
        reset_pools()
        app.conf.broker_write_url = app.conf.broker_read_url = None
        app.conf.broker_transport_options = saved
        outbox.breaker.reset()

    # broker_url itself cannot be overridden while CELERY_BROKER_URL is in the
    # environment (Celery reads the variable first); the read/write URLs can.
    saved = dict(app.conf.broker_transport_options or {})
    reset_pools()
    outbox.breaker.reset()
    dead = f"redis://127.0.0.1:{free_port()}/0"
    app.conf.broker_write_url = app.conf.broker_read_url = dead
    app.conf.broker_transport_options = dict(django_settings.REDIS_BROKER_TRANSPORT_OPTIONS)
    try:
        yield back
    finally:
        back()
