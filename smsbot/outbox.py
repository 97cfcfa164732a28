"""Queue follow-up work so that it survives a broker outage (transactional outbox).

Publishing after commit must never hold up the request that queued the work. A
publish that fails fails at once (no reconnect loop: the broker's transport
options carry max_retries 0), and after a failure each process leaves new work
in the outbox without trying the broker for BROKER_RETRY_AFTER: while the broker
is down, only the first request per process per interval pays a connection
attempt (immediate when nothing listens). The drain-outbox periodic task
publishes what was left once the broker is back.
"""

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from smsbot.celery import REPLIES_QUEUE, app
from smsbot.models import OutboxTask

log = logging.getLogger(__name__)

# Rows younger than this are still being published by their own request.
DRAIN_GRACE = timedelta(seconds=15)
BROKER_RETRY_AFTER = 10.0  # seconds


class _Breaker:
    """Whether this process saw the broker fail in the last BROKER_RETRY_AFTER seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until = 0.0

    def closed(self) -> bool:
        with self._lock:
            return time.monotonic() >= self._open_until

    def trip(self) -> None:
        with self._lock:
            self._open_until = time.monotonic() + BROKER_RETRY_AFTER

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0


breaker = _Breaker()


def enqueue(task_name: str, *args: Any, queue: str = REPLIES_QUEUE, **kwargs: Any) -> OutboxTask:
    """Record the task in the current transaction; publish it once that commits."""
    item = OutboxTask.objects.create(
        task_name=task_name, args=list(args), kwargs=kwargs, queue=queue
    )
    transaction.on_commit(lambda: publish(item))
    return item


def publish(item: OutboxTask) -> bool:
    """Hand item to the broker; False leaves it in the outbox for the drain."""
    if not breaker.closed():
        return False  # the broker failed a moment ago: do not make this request wait
    return _send(item)


def _send(item: OutboxTask) -> bool:
    try:
        app.send_task(
            item.task_name, args=item.args, kwargs=item.kwargs, queue=item.queue, retry=False
        )
    except Exception as exc:  # noqa: BLE001 - any broker failure leaves the row for the drain
        breaker.trip()
        OutboxTask.objects.filter(pk=item.pk).update(
            attempts=item.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:500]
        )
        log.warning("broker unavailable, %s kept in the outbox: %s", item.task_name, exc)
        return False
    OutboxTask.objects.filter(pk=item.pk).delete()
    return True


def drain(limit: int = 500) -> int:
    """Publish rows left behind by a broker outage; returns how many went out.

    The drain runs in a worker the broker just handed a task to, so it tries the
    broker whatever this process saw before, and a success closes the breaker.
    """
    cutoff = timezone.now() - DRAIN_GRACE
    published = 0
    for item in OutboxTask.objects.filter(created_at__lt=cutoff).order_by("id")[:limit]:
        if not _send(item):
            break
        breaker.reset()
        published += 1
    return published
