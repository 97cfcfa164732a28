"""The send-rate token bucket: rate, segments, replies ahead of bulk, shared across processes."""

import multiprocessing
import time

import pytest
from django.core.cache import cache

from messaging.outbound import ratelimit


@pytest.fixture
def limits(settings):  # type: ignore[no-untyped-def]
    settings.SMS_SEND_RATE = 100
    settings.SEND_RATE_BURST_SECONDS = 0.2  # 20 tokens; bulk may use 16
    settings.SEND_RATE_REPLY_RESERVE = 0.2
    return settings


def provider_key(name: str) -> str:
    # A fresh bucket per test (keys in Redis outlive the test otherwise).
    cache.clear()
    return f"{name}-{time.monotonic_ns()}"


def timed(n: int, key: str, cost: int = 1, bulk: bool = True) -> float:
    started = time.monotonic()
    for _ in range(n):
        ratelimit.acquire(key, cost, bulk=bulk)
    return time.monotonic() - started


def test_bulk_sends_are_held_to_the_rate_after_the_burst(limits):
    key = provider_key("rate")
    # 16 from the burst, then 64 at 100/s.
    elapsed = timed(80, key)
    assert 0.55 <= elapsed <= 1.5  # the upper bound only guards against a stuck bucket


def test_a_message_costs_its_segments(limits):
    key = provider_key("segments")
    elapsed = timed(26, key, cost=3)  # 78 tokens: 16 from the burst, 62 at 100/s
    assert 0.5 <= elapsed <= 1.5


def test_replies_find_tokens_while_bulk_waits(limits):
    key = provider_key("reserve")
    timed(16, key)  # bulk drains the bucket down to the replies' reserve
    with pytest.raises(ratelimit.RateLimited) as held:
        ratelimit.acquire(key, 4, bulk=True, max_wait=0.0)
    assert held.value.retry_in > 0
    started = time.monotonic()
    ratelimit.acquire(key, 3, bulk=False, max_wait=0.0)  # no wait at all
    assert time.monotonic() - started < 0.05


def _worker(key: str, n: int, results: "multiprocessing.Queue[float]", start) -> None:  # type: ignore[no-untyped-def]
    import django

    django.setup()
    from django.conf import settings

    settings.SMS_SEND_RATE = 100
    settings.SEND_RATE_BURST_SECONDS = 0.2
    settings.SEND_RATE_REPLY_RESERVE = 0.2
    start.wait(30)  # both begin together, whatever their start-up took
    results.put(timed(n, key))


def test_workers_in_separate_processes_share_one_rate_when_redis_is_configured(limits):
    key = provider_key("shared")
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_worker, args=(key, 60, results, start)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    slowest = max(results.get(timeout=5) for _ in procs)
    if limits.REDIS_URL:
        # One bucket for both: 120 tokens, 16 from the burst, 104 at 100/s.
        assert slowest >= 0.9
    else:
        # Without Redis each process has its own bucket (one machine, one worker).
        assert slowest <= 0.8  # 16 from the burst, 44 at 100/s
