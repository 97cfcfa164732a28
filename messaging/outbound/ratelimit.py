"""The send rate: SMS_SEND_RATE per provider (SES: its MaxSendRate), shared by every worker.

A provider whose sender has a throughput of its own (aws-sms: the origination
identity's MPS, read from AWS) is held to the lower of the two (send_rate).

A token bucket per provider. With REDIS_URL it lives in Redis and is taken by
an atomic Lua script, so all workers on all hosts share one budget of tokens;
without Redis each process keeps its own bucket (one machine, one worker).
A message of N segments costs N tokens. Bulk sends may not take the last
SEND_RATE_REPLY_RESERVE share of the bucket, so a reply arriving mid-broadcast
finds tokens waiting instead of queueing behind the bulk traffic.
"""

import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

from messaging.providers import registry
from messaging.providers.ses.quota import SES, max_send_rate

# KEYS[1] bucket hash; ARGV: rate/s, capacity, cost, reserve (tokens bulk must leave).
# Returns 0 when granted, else the milliseconds to wait before trying again.
_TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local floor = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then
  tokens = capacity
  ts = now
end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local granted = 0
local wait_ms = 0
if tokens - cost >= floor then
  tokens = tokens - cost
else
  wait_ms = math.ceil((cost + floor - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return wait_ms
"""


class RateLimited(Exception):
    """No tokens within the wait allowed; try again after retry_in seconds."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"send rate exhausted, retry in {retry_in:.2f}s")
        self.retry_in = retry_in


@dataclass(frozen=True)
class Limits:
    rate: float
    capacity: float
    reserve: float

    @classmethod
    def current(cls, provider: str = "") -> "Limits":
        rate = send_rate(provider)
        capacity = max(1.0, rate * settings.SEND_RATE_BURST_SECONDS)
        return cls(rate, capacity, capacity * settings.SEND_RATE_REPLY_RESERVE)


def send_rate(provider: str = "") -> float:
    """Messages per second for provider: e-mail at the SES account's own MaxSendRate;
    SMS at SMS_SEND_RATE, or its sender's MPS when lower."""
    if provider == SES:
        return max_send_rate()
    configured = float(settings.SMS_SEND_RATE)
    ceiling = registry.max_rate(provider) if provider else None
    return min(configured, ceiling) if ceiling else configured


class LocalBucket:
    """The same algorithm inside one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}
        self._stamp: dict[str, float] = {}

    def take(self, key: str, limits: Limits, cost: float, floor: float) -> float:
        with self._lock:
            now = time.monotonic()
            tokens = self._tokens.get(key, limits.capacity)
            elapsed = now - self._stamp.get(key, now)
            tokens = min(limits.capacity, tokens + elapsed * limits.rate)
            self._stamp[key] = now
            if tokens - cost >= floor:
                self._tokens[key] = tokens - cost
                return 0.0
            self._tokens[key] = tokens
            return (cost + floor - tokens) / limits.rate


class RedisBucket:
    def __init__(self, url: str) -> None:
        import redis

        self._script = redis.Redis.from_url(url).register_script(_TOKEN_BUCKET_LUA)

    def take(self, key: str, limits: Limits, cost: float, floor: float) -> float:
        wait_ms = self._script(
            keys=[f"smsbot:rate:{key}"], args=[limits.rate, limits.capacity, cost, floor]
        )
        return int(wait_ms) / 1000


@lru_cache(maxsize=4)
def _bucket(redis_url: str) -> LocalBucket | RedisBucket:
    return RedisBucket(redis_url) if redis_url else LocalBucket()


def acquire(provider: str, cost: int = 1, *, bulk: bool = True, max_wait: float = 10.0) -> None:
    """Take cost tokens for provider, sleeping while the bucket refills.

    Raises RateLimited when the tokens would not come within max_wait seconds,
    so a task can give its worker slot back and retry later.
    """
    limits = Limits.current(provider)
    cost_tokens = min(float(cost), limits.capacity - limits.reserve if bulk else limits.capacity)
    floor = limits.reserve if bulk else 0.0
    bucket = _bucket(settings.REDIS_URL)
    deadline = time.monotonic() + max_wait
    while True:
        wait = bucket.take(provider, limits, cost_tokens, floor)
        if wait <= 0:
            return
        if time.monotonic() + wait > deadline:
            raise RateLimited(wait)
        time.sleep(wait)
