"""The daily broadcast at each subscriber's local time: 50,000 subscribers over 12
timezones, a fake provider answering in 50 ms, time compressed with a settable clock.

Measured in one run, on a scratch database of its own (bench_local_time_windows),
with the same worker processes' settings for both:

1. the baseline: the same 50,000 subscribers, all on one clock, get a same-moment
   daily broadcast (beat's daily task, sent to the workers): its send rate from its
   first send to its last, and SQL statements per message. It is measured before
   and again after the local-time run, and the two rates averaged: the machine is
   shared and its load drifts;
2. local time: the schedule in local_time mode; the clock is set to each wave's due
   moment in turn and beat's minute check is published, as beat does at the start of
   that minute. Per wave: the delay from the due moment to its first send (target:
   p99 over waves <= 60 s) and the send rate from its first send to its last
   (target: within 10% of the baseline's); SQL statements per message (target: no
   more than the baseline's).

Rates run from first send to last, not over the middle 80% as bench_broadcast's do
(that leaves out a token bucket's burst, and there is no limit here): a fan-out
batch costs about as much CPU as 400 sends, and a broadcast's fan-out is over
before its middle 80% ends while a wave's overlaps most of its own; counted whole,
both pay for all of theirs.

Quiet hours are on (21:00-08:00), so every claim runs the check. The workers read
the clock from a file (tests/clock.py) and count their statements at the cursor
(bench.counting_worker). Sizes and workers can be changed through BENCH_*
variables. Point DATABASE_URL at PostgreSQL for the figures that matter; the
broker stays the embedded one, private to this run.
"""

import json
import os
import statistics
import subprocess
import time
from collections import Counter
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path

from bench.shared import (
    ROOT,
    WORKERS,
    create_subscribers,
    overall_rate,
    scratch_database,
    start_workers,
    stop_workers,
    worker_env,
)

SUBSCRIBERS = int(os.environ.get("BENCH_SUBSCRIBERS", "50000"))
SCRATCH_DB = "bench_local_time_windows"
QUIET_HOURS = "21:00-08:00"
# Twelve zones with twelve different offsets in January: twelve waves.
ZONES = [
    "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver",
    "America/Chicago", "America/New_York", "America/Sao_Paulo", "Europe/London",
    "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney",
]  # fmt: skip
BASELINE_DAYS = (date(2030, 1, 13), date(2030, 1, 17))
LOCAL_DAY = date(2030, 1, 15)
_ORIGINAL_DB = ""


def _setup(tmp: Path) -> str:
    os.environ["QUIET_HOURS"] = QUIET_HOURS
    os.environ["TEST_CLOCK_FILE"] = str(tmp / "clock")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from tests.clock import follow_file
    from tests.messaging.pipeline import recording_provider

    recording_provider.register()
    follow_file(os.environ["TEST_CLOCK_FILE"])
    global _ORIGINAL_DB
    db_url, _ORIGINAL_DB = scratch_database(SCRATCH_DB)
    return db_url


def _subscribers(n: int) -> dict[str, list[int]]:
    """n subscribers over ZONES; their ids by zone."""
    from subscribers.models import Subscriber

    create_subscribers(n, ZONES)
    by_zone: dict[str, list[int]] = {}
    for pk, zone in Subscriber.objects.values_list("id", "timezone"):
        by_zone.setdefault(zone, []).append(pk)
    return by_zone


def _start_workers(db_url: str, log_dir: Path, counts: Path) -> list[subprocess.Popen]:
    env = {**worker_env(db_url, 1_000_000), "BENCH_QUERY_COUNT_DIR": str(counts)}
    return start_workers(WORKERS, env, log_dir, "bench-local-time", "bench.counting_worker")


# What sending a message costs, wherever its broadcast came from: the load and the
# answers (send_batch, in the task's thread) and the claims (the send pool's threads).
SEND_PATH = {"messaging.send_batch", "send pool"}


def _statements(counts: Path) -> tuple[int, int]:
    """Statements the workers ran: in all, and on the send path."""
    total: Counter[str] = Counter()
    for path in counts.iterdir():
        total.update(json.loads(path.read_text()))
    return total.total(), sum(total[name] for name in SEND_PATH)


def _wait_sent(day: date, n: int, timeout: float) -> None:
    """Wait until n of the day's messages are sent (one cheap count a poll)."""
    from messaging.models import Message

    sent = Message.objects.filter(broadcast__date=day, status="sent")
    deadline = time.monotonic() + timeout
    while sent.count() < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {sent.count()} of {n} sent within {timeout:.0f}s")
        time.sleep(0.5)


def _sent_at(day: date, ids: list[int] | None = None) -> list[datetime]:
    from messaging.models import Message

    sent = Message.objects.filter(broadcast__date=day, status="sent")
    if ids is not None:
        sent = sent.filter(subscriber_id__in=ids)
    return sorted(sent.values_list("sent_at", flat=True))


def _set_mode(mode: str) -> None:
    from django_celery_beat.models import PeriodicTask

    from messaging.broadcasts.schedule import PERIODIC_TASK_NAME

    PeriodicTask.objects.filter(name=PERIODIC_TASK_NAME).update(kwargs=json.dumps({"mode": mode}))


def _same_moment(day: date, db_url: str, log_dir: Path, counts: Path) -> float:
    """Everyone on Chicago's clock, one same-moment broadcast at 10:00: its rate."""
    from messaging import task_names
    from messaging.models import DailyContent
    from smsbot.celery import REPLIES_QUEUE, app
    from subscribers import localtime
    from subscribers.models import Subscriber
    from tests.clock import FileClock

    _set_mode("same_moment")
    Subscriber.objects.update(timezone="America/Chicago")
    DailyContent.objects.create(date=day, text="Word of the day")
    FileClock(Path(os.environ["TEST_CLOCK_FILE"])).set(
        localtime.at(day, clock_time(10, 0), "America/Chicago")
    )
    counts.mkdir()
    workers = _start_workers(db_url, log_dir, counts)
    try:
        app.send_task(task_names.START_DAILY_BROADCAST, queue=REPLIES_QUEUE)
        _wait_sent(day, SUBSCRIBERS, timeout=900)
    finally:
        stop_workers(workers)
    return overall_rate(_sent_at(day))


def _local_time(
    by_zone: dict[str, list[int]], db_url: str, log_dir: Path, counts: Path
) -> tuple[list[float], list[float]]:
    """Twelve zones, the clock set to each wave's moment in turn: per wave, the delay to
    its first send and its rate."""
    from messaging import task_names
    from messaging.models import DailyContent
    from smsbot.celery import REPLIES_QUEUE, app
    from subscribers import localtime
    from subscribers.models import Subscriber
    from tests.clock import FileClock

    for zone, ids in by_zone.items():
        Subscriber.objects.filter(pk__in=ids).update(timezone=zone)
    _set_mode("local_time")
    DailyContent.objects.create(date=LOCAL_DAY, text="Word of the day")
    clock = FileClock(Path(os.environ["TEST_CLOCK_FILE"]))
    waves = sorted((localtime.at(LOCAL_DAY, clock_time(10, 0), zone), zone) for zone in by_zone)
    delays, rates = [], []
    counts.mkdir()
    workers = _start_workers(db_url, log_dir, counts)
    try:
        sent = 0
        for due_at, zone in waves:
            clock.set(due_at)
            app.send_task(task_names.CHECK_DELIVERY_WINDOWS, queue=REPLIES_QUEUE)
            sent += len(by_zone[zone])
            _wait_sent(LOCAL_DAY, sent, timeout=600)
            wave_sent = _sent_at(LOCAL_DAY, by_zone[zone])
            delays.append((wave_sent[0] - due_at).total_seconds())
            rates.append(overall_rate(wave_sent))
    finally:
        stop_workers(workers)
    return delays, rates


def run() -> list[str]:
    import tempfile

    tmp = Path(os.environ.setdefault("SMSBOT_TEST_TMP", tempfile.mkdtemp(prefix="smsbot-bench-")))
    db_url = _setup(tmp)
    from django.core.cache import cache
    from django.db import connection

    from tests.conftest import purge_queues

    log_dir = ROOT / "var"
    log_dir.mkdir(exist_ok=True)
    try:
        cache.clear()
        purge_queues()
        by_zone = _subscribers(SUBSCRIBERS)
        # Same moment, local time, same moment again: the machine's load drifts (it is
        # shared), so the baseline is measured on both sides of what it is compared with.
        before = _same_moment(BASELINE_DAYS[0], db_url, log_dir, tmp / "counts-same-moment")
        cache.clear()
        delays, rates = _local_time(by_zone, db_url, log_dir, tmp / "counts-local-time")
        cache.clear()
        after = _same_moment(BASELINE_DAYS[1], db_url, log_dir, tmp / "counts-same-moment-2")
    finally:
        purge_queues()
        connection.creation.destroy_test_db(_ORIGINAL_DB, verbosity=0)

    baseline = (before + after) / 2
    base_all, base_send = (n / SUBSCRIBERS for n in _statements(tmp / "counts-same-moment"))
    local_all, local_send = (n / SUBSCRIBERS for n in _statements(tmp / "counts-local-time"))
    p99 = statistics.quantiles(delays, n=100, method="inclusive")[98]
    mean_rate = statistics.fmean(rates)
    return [
        f"same moment ({SUBSCRIBERS} subscribers, {WORKERS} worker processes, "
        f"{connection.vendor}): {before:.0f} msg/s before, {after:.0f} msg/s after the local-"
        f"time run (first send to last); SQL statements per message {base_all:.3f} "
        f"({base_send:.3f} sending it)",
        f"local time ({len(delays)} waves of ~{SUBSCRIBERS // len(delays)}): delay from due "
        f"moment to first send p50 {statistics.median(delays):.2f}s, p99 {p99:.2f}s, "
        f"max {max(delays):.2f}s (target p99 <= 60s)",
        f"local time send rate while a wave runs: mean {mean_rate:.0f} msg/s (min "
        f"{min(rates):.0f}, max {max(rates):.0f}) = {mean_rate / baseline:.1%} of the "
        f"same-moment rate (target >= 90%)",
        f"local time: SQL statements per message {local_all:.3f} ({local_send:.3f} sending "
        f"it) = {local_all / base_all:.1%} of same moment ({local_send / base_send:.1%} "
        f"sending it; target <= 100%)",
    ]
