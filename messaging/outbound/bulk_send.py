"""Sending a batch of broadcast messages with one task, the provider calls concurrent.

Per-message Celery tasks spend more on bookkeeping than on the send itself. A
batch task loads its messages in one query, reserves their cost in one step,
and hands them to a shared thread pool, so a worker keeps SEND_BATCH_CONCURRENCY
provider calls in flight while the provider takes its time answering. Each
message is still claimed on its own, just before its call (dispatch.prepare),
so a STOP is honoured up to that moment. The answers are written as they come,
RECORD_EVERY at a time (or after RECORD_WITHIN) in one transaction: a worker
killed mid-batch leaves in doubt the calls in flight and at most
RECORD_EVERY - 1 answered but unwritten per task. Messages whose recipients
are inside their quiet hours are held in one statement per moment they end.
"""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

from messaging import task_names
from messaging.billing import budget
from messaging.broadcasts import states
from messaging.models import Broadcast, Message, MessageStatus
from messaging.outbound import dispatch
from smsbot.celery import BULK_QUEUE, app
from subscribers import localtime

log = logging.getLogger(__name__)

# Answers written per transaction: fewer commits against more sends in doubt
# after a crash (those answered, not yet written).
RECORD_EVERY = 10
RECORD_WITHIN = timedelta(seconds=1)  # how long the first unwritten answer may wait

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    """Shared by the worker's task threads; each pool thread keeps its own connection."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(settings.SEND_BATCH_CONCURRENCY, thread_name_prefix="send")
        return _pool


def shutdown() -> None:
    """Close every pool thread's database connection, then the pool (worker shutdown)."""
    global _pool
    with _pool_lock:
        executor, _pool = _pool, None
    if executor is None:
        return
    size = executor._max_workers
    # The barrier holds each job until all have started: one job per thread.
    barrier = threading.Barrier(size)

    def close_connections() -> None:
        connections.close_all()
        barrier.wait(timeout=30)

    for job in [executor.submit(close_connections) for _ in range(size)]:
        job.result()
    executor.shutdown()


def send_batch(message_ids: list[int]) -> dict[str, int]:
    """Send the batch's queued messages; returns how many ended in each outcome."""
    now = timezone.now()
    ready = []
    quiet: dict[datetime, list[int]] = {}  # when their quiet hours end -> messages
    for message in dispatch.loaded(
        Message.objects.filter(pk__in=message_ids, status=MessageStatus.QUEUED).order_by("id")
    ):
        if message.next_attempt_at and message.next_attempt_at > now:
            continue  # its retry is already scheduled, or it waits for the morning
        if dispatch.held_by_broadcast(message):
            continue
        until = localtime.held_until(message.recipient_timezone, now)
        if until is None or dispatch.counted_out(message, now):
            ready.append(message)
        else:
            quiet.setdefault(until, []).append(message.pk)
    tally: dict[str, int] = {}
    for until, held in quiet.items():
        dispatch.hold(held, until)
        tally[dispatch.QUIET_HOURS] = tally.get(dispatch.QUIET_HOURS, 0) + len(held)
    ready, over_budget = _within_budget(ready)
    answered: list[dispatch.Attempt] = []

    def count(message: Message, outcome: dispatch.Outcome) -> None:
        tally[outcome.status] = tally.get(outcome.status, 0) + 1
        if outcome.retry_in is not None:
            app.send_task(
                task_names.SEND_MESSAGE,
                args=[message.pk],
                queue=BULK_QUEUE,
                countdown=outcome.retry_in,
            )

    def write() -> None:
        if not answered:
            return
        for attempt, outcome in zip(answered, dispatch.record(answered), strict=True):
            count(attempt.message, outcome)
        answered.clear()

    jobs = {pool().submit(_send, message): message for message in ready}
    for job in as_completed(jobs):
        try:
            result = job.result()
        except Exception:
            # Say so, and keep writing the others' answers: those were sent. This
            # message is left queued or sending for the sweep, like a lost task.
            log.exception("sending message %s failed unexpectedly", jobs[job].pk)
            tally["error"] = tally.get("error", 0) + 1
            continue
        if isinstance(result, dispatch.Attempt):
            answered.append(result)
            # A slow trickle (a low send rate) is written within a second too.
            waited = timezone.now() - answered[0].answered_at
            if len(answered) >= RECORD_EVERY or waited > RECORD_WITHIN:
                write()
        else:
            count(jobs[job], result)
    write()
    if over_budget is not None:
        # Only now: pausing first would hold back messages whose cost was reserved.
        states.pause(over_budget, "budget")
    return tally


def _within_budget(messages: list[Message]) -> tuple[list[Message], Broadcast | None]:
    """The messages whose cost still fits under the monthly limit, in order, and the
    broadcast of the first one that did not fit (to pause), if any."""
    if not messages:
        return [], None
    if budget.reserve(sum((m.price_estimated for m in messages), start=Decimal("0"))):
        return messages, None
    fits = []
    for message in messages:
        if not budget.reserve(message.price_estimated):
            return fits, message.broadcast
        fits.append(message)
    return fits, None


_local = threading.local()
# How often a pool thread checks its database connection's age and health; every
# job would add a round trip to each send (Django pings after the check).
CONNECTION_CHECK_SECONDS = 30.0


def _send(message: Message) -> dispatch.Outcome | dispatch.Attempt:
    """In a pool thread: rate, claim, call; the task's thread writes the answer."""
    now = time.monotonic()
    if now - getattr(_local, "checked", 0.0) > CONNECTION_CHECK_SECONDS:
        close_old_connections()
        _local.checked = now
    return dispatch.prepare(message) or dispatch.attempt(message)
