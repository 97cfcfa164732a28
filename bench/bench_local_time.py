"""The daily broadcast at each subscriber's local time: 50,000 subscribers over 12
timezones, a fake provider answering in 50 ms, time compressed with a settable clock.

Measured in one run, on a scratch database of its own (bench_local_time_windows),
with the same worker processes' settings for both:

1. the baseline: the same 50,000 subscribers, all on one clock, get a same-moment
   daily broadcast (beat's daily task, sent to the workers): its send rate over the
   middle 80% of the sends, and SQL statements per message;
2. local time: the schedule in local_time mode; the clock is set to each wave's due
   moment in turn and beat's minute check is published, as beat does at the start of
   that minute. Per wave: the delay from the due moment to its first send (target:
   p99 over waves <= 60 s) and the send rate over the middle 80% of its sends
   (target: within 10% of the baseline's); SQL statements per message (target: no
   more than the baseline's).

Quiet hours are on (21:00-08:00), so every claim runs the check. The workers read
the clock from a file (tests/clock.py) and count their statements at the cursor
(bench.counting_worker). Sizes and workers can be changed through BENCH_*
variables. Point DATABASE_URL at PostgreSQL for the figures that matter; the
broker stays the embedded one, private to this run.
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIBERS = int(os.environ.get("BENCH_SUBSCRIBERS", "50000"))
LATENCY = float(os.environ.get("BENCH_LATENCY", "0.05"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
TASK_THREADS = int(os.environ.get("BENCH_TASK_THREADS", "4"))
IN_FLIGHT = int(os.environ.get("BENCH_IN_FLIGHT", "32"))
SCRATCH_DB = "bench_local_time_windows"
QUIET_HOURS = "21:00-08:00"
# Twelve zones with twelve different offsets in January: twelve waves.
ZONES = [
    "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver",
    "America/Chicago", "America/New_York", "America/Sao_Paulo", "Europe/London",
    "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney",
]  # fmt: skip
BASELINE_DAY = date(2030, 1, 14)
LOCAL_DAY = date(2030, 1, 15)
_ORIGINAL_DB = ""


def _setup(tmp: Path) -> str:
    os.environ["QUIET_HOURS"] = QUIET_HOURS
    os.environ["TEST_CLOCK_FILE"] = str(tmp / "clock")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.db import connection

    from tests.clock import follow_file
    from tests.messaging.pipeline import recording_provider

    recording_provider.register()
    follow_file(os.environ["TEST_CLOCK_FILE"])
    global _ORIGINAL_DB
    _ORIGINAL_DB = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":
        # A name of its own on a PostgreSQL server other people's tests share.
        connection.settings_dict["TEST"]["NAME"] = SCRATCH_DB
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = db["PASSWORD"] or ""
    return f"postgres://{db['USER']}:{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _subscribers(n: int) -> dict[str, list[int]]:
    from django.utils import timezone

    from bench.bench_broadcast import fictional_phone
    from subscribers.models import Subscriber

    now = timezone.now()
    Subscriber.objects.bulk_create(
        [
            Subscriber(
                phone=fictional_phone(i),
                consent_status="opted_in",
                opted_in_at=now,
                consent_source="import",
                timezone=ZONES[i % len(ZONES)],
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    by_zone: dict[str, list[int]] = {}
    for pk, zone in Subscriber.objects.values_list("id", "timezone"):
        by_zone.setdefault(zone, []).append(pk)
    return by_zone


def _start_workers(db_url: str, log_dir: Path, counts: Path) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "SMS_PROVIDER": "recording",
        "SMS_SEND_RATE": "1000000",
        "RECORDING_LATENCY": str(LATENCY),
        "WORKER_CONCURRENCY": str(TASK_THREADS),
        "SEND_BATCH_CONCURRENCY": str(IN_FLIGHT),
        "BENCH_QUERY_COUNT_DIR": str(counts),
    }
    env.pop("RECORDING_LOG", None)
    ready = log_dir / "bench-local-time-ready"
    ready.unlink(missing_ok=True)
    env["WORKER_READY_FILE"] = str(ready)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.counting_worker"],
            cwd=ROOT,
            env=env,
            stdout=(log_dir / f"bench-local-time-worker-{i}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for i in range(WORKERS)
    ]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ready.exists() and len(ready.read_text().split()) >= WORKERS:
            return workers
        time.sleep(0.1)
    _stop(workers)
    raise RuntimeError("the bench workers did not start within 60s")


def _stop(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        w.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            w.wait(60)
        except subprocess.TimeoutExpired:
            w.kill()


# What sending a message costs, wherever its broadcast came from: the load and the
# answers (send_batch, in the task's thread) and the claims (the send pool's threads).
SEND_PATH = {"messaging.send_batch", "send pool"}


def _statements(counts: Path) -> tuple[int, int]:
    """Statements the workers ran: in all, and on the send path."""
    total: Counter[str] = Counter()
    for path in counts.iterdir():
        total.update(json.loads(path.read_text()))
    return total.total(), sum(total[name] for name in SEND_PATH)


def _wait_sent(day: date, ids: list[int] | None, n: int, timeout: float) -> list[datetime]:
    """Wait until n of the day's messages (to ids, if given) are sent; their sent_at."""
    from messaging.models import Message

    messages = Message.objects.filter(broadcast__date=day, status="sent")
    if ids is not None:
        messages = messages.filter(subscriber_id__in=ids)
    deadline = time.monotonic() + timeout
    while messages.count() < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {messages.count()} of {n} sent within {timeout:.0f}s")
        time.sleep(0.2)
    return sorted(messages.values_list("sent_at", flat=True))


def _middle_rate(sent_at: list[datetime]) -> float:
    """Sends per second over the middle 80%: the start waits for the first fan-out
    batch and the last answers are written in a bunch."""
    first, last = len(sent_at) // 10, len(sent_at) * 9 // 10
    return (last - first) / (sent_at[last] - sent_at[first]).total_seconds()


def _set_mode(mode: str) -> None:
    from django_celery_beat.models import PeriodicTask

    from messaging.broadcasts.schedule import PERIODIC_TASK_NAME

    PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME).update(kwargs=json.dumps({"mode": mode}))


def run() -> list[str]:
    import tempfile

    tmp = Path(os.environ.setdefault("SMSBOT_TEST_TMP", tempfile.mkdtemp(prefix="smsbot-bench-")))
    db_url = _setup(tmp)
    from django.core.cache import cache
    from django.db import connection

    from messaging import task_names
    from messaging.models import DailyContent
    from smsbot.celery import REPLIES_QUEUE, app
    from subscribers import localtime
    from subscribers.models import Subscriber
    from tests.clock import FileClock
    from tests.conftest import purge_queues

    clock = FileClock(Path(os.environ["TEST_CLOCK_FILE"]))
    log_dir = ROOT / "var"
    log_dir.mkdir(exist_ok=True)
    lines = []
    try:
        cache.clear()
        purge_queues()
        by_zone = _subscribers(SUBSCRIBERS)
        for day in (BASELINE_DAY, LOCAL_DAY):
            DailyContent.objects.create(date=day, text="Word of the day")

        # 1. Baseline: everyone on Chicago's clock, one same-moment broadcast at 10:00.
        Subscriber.objects.update(timezone="America/Chicago")
        clock.set(localtime.at(BASELINE_DAY, clock_time(10, 0), "America/Chicago"))
        counts = tmp / "counts-baseline"
        counts.mkdir()
        workers = _start_workers(db_url, log_dir, counts)
        try:
            app.send_task(task_names.START_DAILY_BROADCAST, queue=REPLIES_QUEUE)
            sent_at = _wait_sent(BASELINE_DAY, None, SUBSCRIBERS, timeout=900)
        finally:
            _stop(workers)
        baseline_rate = _middle_rate(sent_at)
        baseline_all, baseline_send = (n / SUBSCRIBERS for n in _statements(counts))
        lines.append(
            f"same moment ({SUBSCRIBERS} subscribers, {WORKERS} worker processes, "
            f"{connection.vendor}): {baseline_rate:.0f} msg/s over the middle 80%; SQL "
            f"statements per message {baseline_all:.3f} ({baseline_send:.3f} sending it)"
        )

        # 2. Local time: twelve zones, the clock moved to each wave's moment in turn.
        for zone, ids in by_zone.items():
            Subscriber.objects.filter(pk__in=ids).update(timezone=zone)
        _set_mode("local_time")
        cache.clear()
        counts = tmp / "counts-local"
        counts.mkdir()
        waves = sorted((localtime.at(LOCAL_DAY, clock_time(10, 0), zone), zone) for zone in by_zone)
        delays, rates = [], []
        workers = _start_workers(db_url, log_dir, counts)
        try:
            for due_at, zone in waves:
                clock.set(due_at)
                app.send_task(task_names.CHECK_DELIVERY_WINDOWS, queue=REPLIES_QUEUE)
                ids = by_zone[zone]
                wave_sent = _wait_sent(LOCAL_DAY, ids, len(ids), timeout=600)
                delays.append((wave_sent[0] - due_at).total_seconds())
                rates.append(_middle_rate(wave_sent))
        finally:
            _stop(workers)
        local_all, local_send = (n / SUBSCRIBERS for n in _statements(counts))
        p99 = statistics.quantiles(delays, n=100, method="inclusive")[98]
        mean_rate = statistics.fmean(rates)
        lines += [
            f"local time ({len(waves)} waves of ~{SUBSCRIBERS // len(waves)}): delay from due "
            f"moment to first send p50 {statistics.median(delays):.2f}s, p99 {p99:.2f}s, "
            f"max {max(delays):.2f}s (target p99 <= 60s)",
            f"local time send rate while a wave runs: mean {mean_rate:.0f} msg/s (min "
            f"{min(rates):.0f}, max {max(rates):.0f}) = {mean_rate / baseline_rate:.1%} of the "
            f"same-moment rate (target >= 90%)",
            f"local time: SQL statements per message {local_all:.3f} ({local_send:.3f} sending "
            f"it) = {local_all / baseline_all:.1%} of same moment ({local_send / baseline_send:.1%}"
            f" sending it; target <= 100%)",
        ]
    finally:
        purge_queues()
        connection.creation.destroy_test_db(_ORIGINAL_DB, verbosity=0)
    return lines
