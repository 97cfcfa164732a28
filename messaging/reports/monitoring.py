"""The portal watching itself: the beat heartbeat and whether today's broadcast began.

Celery beat fires the heartbeat task every minute and a worker runs it, so each
run proves both are alive. It keeps what the admin's banners need in the cache
(Status: when it ran, today's broadcast), so showing them costs a page no
query, and sends CloudWatch the dead-man's-switch figures the
alarms watch: BeatHeartbeat, and DailyBroadcastPending, 1 for every minute in
which today's broadcast is pending (messaging.broadcasts.due: its time has
passed and it has not begun). Whatever begins a day's broadcast sends
DailyBroadcastStarted (messaging.broadcasts.daily).
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone

from messaging.broadcasts import due
from smsbot import cache_reads, metrics
from smsbot.aws_names import METRIC_DAILY_PENDING, METRIC_HEARTBEAT

# Versioned: a Status pickled by an older release (another DailyDue) is not read back.
STATUS_KEY = "monitoring:status:2"


@dataclass(frozen=True)
class Status:
    """What the last heartbeat found, for the banners."""

    at: datetime
    daily: due.DailyDue


def heartbeat(now: datetime | None = None) -> int:
    """Record what the banners need and send the switch's figures; returns
    DailyBroadcastPending."""
    now = now or timezone.now()
    today = due.today(now)
    cache.set(STATUS_KEY, Status(now, today), timeout=None)
    pending = int(today.pending(now))
    metrics.put_now({METRIC_HEARTBEAT: 1, METRIC_DAILY_PENDING: pending}, now)
    return pending


def status() -> Status | None:
    """What the last heartbeat found; None when none has run."""
    return cache_reads.get(STATUS_KEY)
