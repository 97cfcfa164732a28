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
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIBERS = int(os.environ.get("BENCH_SUBSCRIBERS", "10000"))
LATENCY = float(os.environ.get("BENCH_LATENCY", "0.05"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
TASK_THREADS = int(os.environ.get("BENCH_TASK_THREADS", "4"))
IN_FLIGHT = int(os.environ.get("BENCH_IN_FLIGHT", "32"))
LOOP_SAMPLE = int(os.environ.get("BENCH_LOOP_SAMPLE", "100"))
RATE = float(os.environ.get("BENCH_RATE", "100"))
RATE_SUBSCRIBERS = int(os.environ.get("BENCH_RATE_SUBSCRIBERS", "2000"))
# 555-0100..0199 is reserved for fiction in every area code: 100 numbers per code.
AREA_CODES = range(201, 1000)
_ORIGINAL_DB = ""


def fictional_phone(i: int) -> str:
    return f"+1{AREA_CODES[i // 100]}55501{i % 100:02d}"


def _setup() -> str:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from django.db import connection

    from tests.messaging.pipeline import recording_provider

    recording_provider.register()
    global _ORIGINAL_DB
    _ORIGINAL_DB = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = db["PASSWORD"] or ""
    return f"postgres://{db['USER']}:{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _subscribers(n: int) -> None:
    from django.utils import timezone

    from messaging.models import Message
    from subscribers.models import Subscriber

    Message.objects.all().delete()
    Subscriber.objects.all().delete()
    now = timezone.now()
    Subscriber.objects.bulk_create(
        [
            Subscriber(
                phone=fictional_phone(i),
                consent_status="opted_in",
                opted_in_at=now,
                consent_source="import",
            )
            for i in range(n)
        ],
        batch_size=2000,
    )


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
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "SMS_PROVIDER": "recording",
        "SMS_SEND_RATE": str(rate),
        "RECORDING_LATENCY": str(LATENCY),
        "WORKER_CONCURRENCY": str(TASK_THREADS),
        "SEND_BATCH_CONCURRENCY": str(IN_FLIGHT),
    }
    env.pop("RECORDING_LOG", None)
    ready = log_dir / "bench-workers-ready"
    ready.unlink(missing_ok=True)
    env["WORKER_READY_FILE"] = str(ready)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.messaging.pipeline.run_worker"],
            cwd=ROOT,
            env=env,
            stdout=(log_dir / f"bench-worker-{i}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for i in range(count)
    ]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ready.exists() and len(ready.read_text().split()) >= count:
            return workers
        time.sleep(0.1)
    _stop(workers)
    raise RuntimeError("the bench workers did not start within 60s")


def _stop(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        w.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            w.wait(30)
        except subprocess.TimeoutExpired:
            w.kill()


def _broadcast(day: date, n: int, timeout: float) -> tuple[float, list]:
    """Start the day's broadcast; wait until all n messages are sent; return seconds."""
    from messaging.broadcasts import daily
    from messaging.models import DailyContent, Message

    DailyContent.objects.update_or_create(date=day, defaults={"text": "Word of the day"})
    started = time.monotonic()
    daily.start(day)
    deadline = started + timeout
    while time.monotonic() < deadline:
        if Message.objects.filter(status="sent").count() >= n:
            break
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    sent = Message.objects.filter(status="sent").count()
    if sent < n:
        raise RuntimeError(f"only {sent} of {n} messages sent within {timeout:.0f}s")
    return elapsed, list(Message.objects.order_by("sent_at").values_list("sent_at", flat=True))


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
            elapsed, _ = _broadcast(date(2030, 1, 1), SUBSCRIBERS, timeout=600)
        finally:
            _stop(workers)
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
            _, sent_at = _broadcast(date(2030, 1, 2), RATE_SUBSCRIBERS, timeout=600)
        finally:
            _stop(workers)
        # The middle 80% of the sends: the bucket starts full (a burst at the start)
        # and the last results are recorded in a bunch, so both ends are left out.
        first, last = len(sent_at) // 10, len(sent_at) * 9 // 10
        sustained = (last - first) / (sent_at[last] - sent_at[first]).total_seconds()
        lines.append(
            f"rate-limited ({rate_workers} worker process(es), SMS_SEND_RATE={RATE:g}): "
            f"{sustained:.1f} msg/s sustained = {sustained / RATE:.1%} of the limit "
            f"(target >= 95%, never above ~100%)"
        )
    finally:
        purge_queues()
        connection.creation.destroy_test_db(_ORIGINAL_DB, verbosity=0)
    return lines
