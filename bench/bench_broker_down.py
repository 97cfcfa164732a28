"""Signed inbound STOP/START with the broker up, then with CELERY_BROKER_URL pointing at nothing.

Each keyword changes consent, and each change queues follow-up work after commit
(the DynamoDB mirror task; DYNAMODB_SYNC_ENABLED is on, no worker runs). gunicorn
serves the portal as bench/bench_inbound.py sets it up, once with the embedded
broker (the baseline) and once with a Redis URL on a port nothing listens on.
Latency is measured paced at BENCH_BROKER_DOWN_RATE requests/s (default 20, well
under what SQLite serves here) for BENCH_BROKER_DOWN_SECONDS per round, from each
request's scheduled time, in BENCH_BROKER_DOWN_ROUNDS rounds alternating
between the two servers.
"""

import os
import statistics
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from urllib.parse import urlsplit

from bench.bench_inbound import (
    free_port,
    load,
    portal,
    scratch_database,
    split_among,
    twilio_requests,
)


@contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run() -> list[str]:
    seconds = float(os.environ.get("BENCH_BROKER_DOWN_SECONDS", "10"))
    rate = float(os.environ.get("BENCH_BROKER_DOWN_RATE", "20"))
    rounds = int(os.environ.get("BENCH_BROKER_DOWN_ROUNDS", "3"))
    count = int(rate * seconds * 1.2) + 100
    brokers = {
        "broker up (embedded)": "filesystem://",
        "broker down (nothing listens)": f"redis://127.0.0.1:{free_port()}/0",
    }
    p99s: dict[str, list[float]] = {name: [] for name in brokers}
    p50s: dict[str, list[float]] = {name: [] for name in brokers}
    with scratch_database() as (database_url, vendor), ExitStack() as stack:
        servers = {}
        for name, broker in brokers.items():
            with environment(CELERY_BROKER_URL=broker, DYNAMODB_SYNC_ENABLED="true"):
                servers[name] = stack.enter_context(portal(database_url))
        # Rounds alternate between the two servers, so a change in the machine's other
        # load falls on both alike.
        for _ in range(rounds):
            for name, base_url in servers.items():
                host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
                requests = twilio_requests(base_url, count, keyword=True)
                figures = load(host, port, split_among(requests, 2), seconds, rate)
                p50s[name].append(figures["p50"])
                p99s[name].append(figures["p99"])
    lines = [
        f"database: {vendor}; signed STOP/START at {rate:.0f} req/s, {rounds} rounds of "
        f"{seconds:.0f}s per broker, alternating"
    ]
    for name in brokers:
        lines.append(
            f"{name}: p50 {statistics.median(p50s[name]):.1f} ms, "
            f"p99 {statistics.median(p99s[name]):.1f} ms (median of rounds; p99 per round "
            + ", ".join(f"{v:.0f}" for v in p99s[name])
            + ")"
        )
    up, down = (statistics.median(v) for v in p99s.values())
    lines.append(f"ratio: p99 with the broker down is {down / up:.2f}x the p99 with it up")
    return lines
