"""CloudWatch metrics (namespace SMSBot), buffered per process, for every part of the portal.

Callers record data points as they go (`record`); they are summed in memory per
metric and dimensions and go to CloudWatch in one PutMetricData call once
CLOUDWATCH_METRICS_BATCH points were recorded or the oldest is
CLOUDWATCH_METRICS_FLUSH_SECONDS old (checked at each new point, so a web process,
where no Celery signal fires, sends its delivery counts too), at the end of a
Celery task once the oldest is that old, and when the worker stops.
Gauges that must carry their own minute (the heartbeat's) go at once with
`put_now`. Without AWS configured every call is a no-op. A CloudWatch failure
is logged and the batch dropped: metrics never hold up the work they describe.
"""

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from celery.signals import task_postrun, worker_shutdown
from django.conf import settings

from smsbot import aws
from smsbot.aws_names import METRICS_NAMESPACE

log = logging.getLogger(__name__)

# PutMetricData takes up to 1000 data points a call.
MAX_PER_CALL = 1000


def enabled() -> bool:
    """AWS is configured: SNS is the provider, an endpoint is set, or metrics are on."""
    return bool(
        settings.CLOUDWATCH_METRICS_ENABLED
        or settings.SMS_PROVIDER == "sns"
        or settings.AWS_ENDPOINT_URL
    )


@dataclass
class _Stats:
    """CloudWatch's StatisticValues for one metric and set of dimensions."""

    timestamp: datetime
    count: int = 0
    total: float = 0.0
    minimum: float = float("inf")
    maximum: float = float("-inf")

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)


Key = tuple[str, str, tuple[tuple[str, str], ...]]


class _Buffer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[Key, _Stats] = {}
        self._recorded = 0
        self._oldest = 0.0

    def add(self, key: Key, value: float) -> bool:
        """Buffer one data point; True when the batch is full or old enough to send."""
        with self._lock:
            if not self._stats:
                self._oldest = time.monotonic()
            stats = self._stats.setdefault(key, _Stats(datetime.now(UTC)))
            stats.add(value)
            self._recorded += 1
            return (
                self._recorded >= settings.CLOUDWATCH_METRICS_BATCH
                or self._age() >= settings.CLOUDWATCH_METRICS_FLUSH_SECONDS
            )

    def _age(self) -> float:
        return time.monotonic() - self._oldest if self._stats else 0.0

    def age(self) -> float:
        with self._lock:
            return self._age()

    def take(self) -> dict[Key, _Stats]:
        with self._lock:
            taken, self._stats, self._recorded = self._stats, {}, 0
            return taken


_buffer = _Buffer()


def record(
    name: str, value: float | Decimal = 1, *, unit: str = "Count", **dimensions: str
) -> None:
    """Buffer one data point of metric name; sends the batch when it is full or old."""
    if not enabled():
        return
    key = (name, unit, tuple(sorted(dimensions.items())))
    if _buffer.add(key, float(value)):
        flush()


def _datum(key: Key, stats: _Stats) -> dict[str, Any]:
    name, unit, dimensions = key
    return {
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions],
        "Timestamp": stats.timestamp,
        "StatisticValues": {
            "SampleCount": stats.count,
            "Sum": stats.total,
            "Minimum": stats.minimum,
            "Maximum": stats.maximum,
        },
        "Unit": unit,
    }


def _put(data: list[dict[str, Any]]) -> int:
    if not data:
        return 0
    client = aws.client("cloudwatch", attempts=2)
    try:
        for start in range(0, len(data), MAX_PER_CALL):
            client.put_metric_data(
                Namespace=METRICS_NAMESPACE, MetricData=data[start : start + MAX_PER_CALL]
            )
    except (BotoCoreError, ClientError) as exc:
        log.warning("CloudWatch metrics dropped (%d metrics): %s", len(data), exc)
        return 0
    return len(data)


def flush() -> int:
    """Send every buffered data point to CloudWatch; returns how many metrics went."""
    return _put([_datum(key, stats) for key, stats in _buffer.take().items()])


def put_now(values: dict[str, float], timestamp: datetime, *, unit: str = "Count") -> int:
    """Send one data point per metric (undimensioned) stamped timestamp, unbuffered."""
    if not enabled():
        return 0
    return _put(
        [
            {"MetricName": name, "Timestamp": timestamp, "Value": float(value), "Unit": unit}
            for name, value in values.items()
        ]
    )


@task_postrun.connect
def _flush_after_task(**kwargs: Any) -> None:
    if _buffer.age() >= settings.CLOUDWATCH_METRICS_FLUSH_SECONDS:
        flush()


@worker_shutdown.connect
def _flush_at_shutdown(**kwargs: Any) -> None:
    flush()
