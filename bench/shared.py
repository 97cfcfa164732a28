"""What the broadcast benchmarks share: a scratch database, fictional subscribers and
Celery worker processes.

The workers are real processes (tests.messaging.pipeline.run_worker, or a module
that wraps it) on the scratch database, started together and waited for until
each says it is ready. Their sizes come from BENCH_* variables.
"""

import functools
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKER = "tests.messaging.pipeline.run_worker"
LATENCY = float(os.environ.get("BENCH_LATENCY", "0.05"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
TASK_THREADS = int(os.environ.get("BENCH_TASK_THREADS", "4"))
IN_FLIGHT = int(os.environ.get("BENCH_IN_FLIGHT", "32"))
# Statuses a broadcast message does not leave for "sent".
NEVER_SENT = ("failed", "skipped", "needs_review")


@functools.cache
def area_codes() -> list[int]:
    """The area codes whose numbers every door accepts (subscribers.phones' rule: no
    service, non-geographic or premium codes). 555-0100..0199 is reserved for fiction in
    each: 100 numbers per code."""
    from subscribers import phones

    return [c for c in range(201, 1000) if not phones.refused_destination(f"+1{c}5550100")]


def fictional_phone(i: int) -> str:
    return f"+1{area_codes()[i // 100]}55501{i % 100:02d}"


def create_subscribers(n: int, zones: list[str] | None = None) -> None:
    """n opted-in subscribers on fictional numbers, spread over zones if given."""
    from django.utils import timezone

    from subscribers.models import Subscriber

    now = timezone.now()
    Subscriber.objects.bulk_create(
        [
            Subscriber(
                phone=fictional_phone(i),
                consent_status="opted_in",
                opted_in_at=now,
                consent_source="import",
                timezone=zones[i % len(zones)] if zones else "",
            )
            for i in range(n)
        ],
        batch_size=2000,
    )


def scratch_database(name: str = "") -> tuple[str, str]:
    """Create a throw-away database (Django's test-database creation); its URL for the
    workers and the name to give back to destroy_test_db. name: a database name of its
    own on a PostgreSQL server others share (SQLite's is a file of this run's)."""
    from django.db import connection

    original = connection.settings_dict["NAME"]
    if name and connection.vendor != "sqlite":
        connection.settings_dict["TEST"]["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}", original
    password = db["PASSWORD"] or ""
    return f"postgres://{db['USER']}:{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}", original


def worker_env(db_url: str, rate: float) -> dict[str, str]:
    """The workers' settings: the scratch database, the recording provider at LATENCY."""
    return {
        "DATABASE_URL": db_url,
        "SMS_PROVIDER": "recording",
        "SMS_SEND_RATE": str(rate),
        "RECORDING_LATENCY": str(LATENCY),
        "WORKER_CONCURRENCY": str(TASK_THREADS),
        "SEND_BATCH_CONCURRENCY": str(IN_FLIGHT),
    }


def start_workers(
    count: int, env: dict[str, str], log_dir: Path, prefix: str, module: str = WORKER
) -> list[subprocess.Popen]:
    """count worker processes with env on top of this one's; waits until all are ready."""
    env = {**os.environ, **env}
    env.pop("RECORDING_LOG", None)
    ready = log_dir / f"{prefix}-ready"
    ready.unlink(missing_ok=True)
    env["WORKER_READY_FILE"] = str(ready)
    workers = [
        subprocess.Popen(  # noqa: S603 - a module of this repository
            [sys.executable, "-m", module],
            cwd=ROOT,
            env=env,
            stdout=(log_dir / f"{prefix}-{i}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for i in range(count)
    ]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ready.exists() and len(ready.read_text().split()) >= count:
            return workers
        time.sleep(0.1)
    stop_workers(workers)
    raise RuntimeError("the bench workers did not start within 60s")


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        w.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            w.wait(60)
        except subprocess.TimeoutExpired:
            w.kill()


def overall_rate(sent_at: list[datetime]) -> float:
    """Sends per second from the first send to the last (sorted send times)."""
    return (len(sent_at) - 1) / (sent_at[-1] - sent_at[0]).total_seconds()


def middle_rate(sent_at: list[datetime]) -> float:
    """Sends per second over the middle 80%: the bucket starts full or the first fan-out
    batch is awaited, and the last answers are written in a bunch."""
    first, last = len(sent_at) // 10, len(sent_at) * 9 // 10
    return (last - first) / (sent_at[last] - sent_at[first]).total_seconds()


def broadcast_until_sent(day: date, n: int, timeout: float) -> tuple[float, list[datetime]]:
    """Start the day's broadcast; wait until all n messages are sent; return the seconds
    it took and the send times, sorted."""
    from django.db.models import Count

    from messaging.broadcasts import daily
    from messaging.models import DailyContent, Message

    DailyContent.objects.update_or_create(date=day, defaults={"text": "Word of the day"})
    started = time.monotonic()
    daily.start(day)
    deadline = started + timeout
    while time.monotonic() < deadline:
        if Message.objects.filter(status="sent").count() >= n:
            break
        if Message.objects.filter(status__in=NEVER_SENT).exists():
            break  # waiting longer cannot make all n sent
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    sent = Message.objects.filter(status="sent").count()
    if sent < n:
        found = Message.objects.values("status", "error_code").annotate(n=Count("id"))
        raise RuntimeError(
            f"only {sent} of {n} messages sent after {elapsed:.0f}s: "
            + ", ".join(f"{f['status']} {f['error_code'] or ''} {f['n']}" for f in found)
        )
    return elapsed, list(Message.objects.order_by("sent_at").values_list("sent_at", flat=True))
