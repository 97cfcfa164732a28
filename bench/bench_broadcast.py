"""A broadcast to 10,000 subscribers through a fake provider with 50 ms latency.

Measured in one run, on a throw-away database (Django's test-database creation):

1. the original approach: one loop calling the provider for each recipient in
   turn — timed on a sample and extrapolated to the full audience;
2. the pipeline end to end: `daily.start()` → fan-out → Celery workers
   (separate processes, thread pools) → provider → status recorded, until every
   message is sent; the send rate limit set far above what the run can reach;
3. the same pipeline with SMS_SEND_RATE as the bottleneck: the sustained rate
   over the middle 80% of the sends, as a share of SMS_SEND_RATE.

Sizes and workers can be changed through BENCH_* environment variables.
Without REDIS_URL the rate limiter is per process, so run 3 uses a single
worker process (the documented single-machine setup).
"""

import os
import subprocess
import time
from datetime import date
from pathlib import Path

from bench.shared import (
    IN_FLIGHT,
    LATENCY,
    ROOT,
    WORKERS,
    broadcast_until_sent,
    create_subscribers,
    middle_rate,
    scratch_database,
    start_workers,
    stop_workers,
    worker_env,
)

SUBSCRIBERS = int(os.environ.get("BENCH_SUBSCRIBERS", "10000"))
LOOP_SAMPLE = int(os.environ.get("BENCH_LOOP_SAMPLE", "100"))
RATE = float(os.environ.get("BENCH_RATE", "100"))
RATE_SUBSCRIBERS = int(os.environ.get("BENCH_RATE_SUBSCRIBERS", "2000"))
_ORIGINAL_DB = ""


def _setup() -> str:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from tests.messaging.pipeline import recording_provider

    recording_provider.register()
    global _ORIGINAL_DB
    db_url, _ORIGINAL_DB = scratch_database()
    return db_url


def _subscribers(n: int) -> None:
    from messaging.models import Message
    from subscribers.models import Subscriber

    Message.objects.all().delete()
    Subscriber.objects.all().delete()
    create_subscribers(n)


def _loop_baseline() -> float:
    """The original system: for each recipient, call the provider, then the next."""
    from messaging.models import Message
    from messaging.providers.registry import get
    from subscribers.models import Subscriber

    provider = get("recording")
    os.environ["RECORDING_LATENCY"] = str(LATENCY)
    recipients = list(Subscriber.objects.order_by("id")[:LOOP_SAMPLE])
    started = time.monotonic()
    for s in recipients:
        provider.send(Message(phone=s.phone, body="Word of the day", channel="sms"))
    return len(recipients) / (time.monotonic() - started)


def _start_workers(db_url: str, count: int, rate: float, log_dir: Path) -> list[subprocess.Popen]:
    return start_workers(count, worker_env(db_url, rate), log_dir, "bench-worker")


def run() -> list[str]:
    from tests.conftest import purge_queues

    db_url = _setup()
    from django.core.cache import cache
    from django.db import connection

    log_dir = ROOT / "var"
    log_dir.mkdir(exist_ok=True)
    lines = []
    try:
        cache.clear()
        purge_queues()
        _subscribers(SUBSCRIBERS)
        loop_rate = _loop_baseline()
        lines.append(
            f"loop (original approach), {LOOP_SAMPLE} recipients timed: {loop_rate:.1f} msg/s "
            f"-> {SUBSCRIBERS / loop_rate:.0f}s for {SUBSCRIBERS} (extrapolated)"
        )

        workers = _start_workers(db_url, WORKERS, 1_000_000, log_dir)
        try:
            elapsed, _ = broadcast_until_sent(date(2030, 1, 1), SUBSCRIBERS, timeout=600)
        finally:
            stop_workers(workers)
        rate = SUBSCRIBERS / elapsed
        lines.append(
            f"pipeline ({WORKERS} worker processes, {IN_FLIGHT} sends in flight each, "
            f"{connection.vendor}, {'redis' if os.environ.get('REDIS_URL') else 'local'} "
            f"limiter): {SUBSCRIBERS} messages in {elapsed:.1f}s = {rate:.0f} msg/s "
            f"= {rate / loop_rate:.1f}x the loop (targets: >=25x, >=500 msg/s)"
        )

        cache.clear()
        purge_queues()
        _subscribers(RATE_SUBSCRIBERS)
        rate_workers = WORKERS if os.environ.get("REDIS_URL") else 1
        workers = _start_workers(db_url, rate_workers, RATE, log_dir)
        try:
            _, sent_at = broadcast_until_sent(date(2030, 1, 2), RATE_SUBSCRIBERS, timeout=600)
        finally:
            stop_workers(workers)
        sustained = middle_rate(sent_at)
        lines.append(
            f"rate-limited ({rate_workers} worker process(es), SMS_SEND_RATE={RATE:g}): "
            f"{sustained:.1f} msg/s sustained = {sustained / RATE:.1%} of the limit "
            f"(target >= 95%, never above ~100%)"
        )
    finally:
        purge_queues()
        connection.creation.destroy_test_db(_ORIGINAL_DB, verbosity=0)
    return lines
