"""The mirror heals itself: a periodic reconcile writes what the live mirror missed.

A row is behind when its mirrored version is lower than its version (its task
was lost, or ran before the table existed) or when it carries a mirror error
(its task gave up after every retry, e.g. through a DynamoDB outage). Every
five minutes a task on the mirror queue writes up to DYNAMODB_RECONCILE_BATCH
such rows, oldest change first, each with the usual conditional PutItem, and a
successful write clears the row's error. A full batch queues the next at once,
so the backlog of an hour-long outage drains within minutes of DynamoDB
answering again. While DynamoDB still fails, a run stops at the first failure
(the row keeps its error) and the next run tries again: no operator action.

A row changed in the last GRACE seconds is left to its own mirror task, in
flight. Erased subscribers are not mirrored; an erasure whose DynamoDB delete
failed for good is found by sync_dynamodb --verify (there is no row left to
carry its error).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from smsbot import metrics
from smsbot.aws_names import METRIC_MIRROR_ERRORS
from subscribers.mirror.retries import TRANSIENT
from subscribers.mirror.write import SPECS, MirrorSpec, describe_error, record_error, sync_row

GRACE = timedelta(seconds=60)


@dataclass
class ReconcileResult:
    written: int = 0
    # Rows whose version (or a newer one) was in the table already: marked synced.
    already: int = 0
    # A full batch was written: more rows may be behind.
    more: bool = False
    error: str = ""  # why the run stopped early, if it did
    errors_left: dict[str, int] = field(default_factory=dict)  # rows with an error, per table


def behind(spec: MirrorSpec, now: datetime) -> QuerySet:
    """The rows the table lacks or has old, oldest change first."""
    stale = Q(mirror_synced_version__lt=F("version"), updated_at__lt=now - GRACE)
    return spec.live().filter(stale | ~Q(mirror_error="")).order_by("updated_at", "pk")


def reconcile(limit: int | None = None, now: datetime | None = None) -> ReconcileResult:
    """Write up to limit rows that are behind; returns what happened."""
    now = now or timezone.now()
    budget = limit or settings.DYNAMODB_RECONCILE_BATCH
    result = ReconcileResult()
    for spec in SPECS.values():
        if budget <= 0 or result.error:
            break
        rows = list(behind(spec, now)[:budget])
        budget -= len(rows)
        for row in rows:
            try:
                written = sync_row(spec, row)
            except TRANSIENT as exc:
                record_error(spec, row.pk, exc)
                result.error = f"{spec.table}: {describe_error(exc)}"
                break
            result.written += written
            result.already += not written
    result.more = budget <= 0 and not result.error
    result.errors_left = {
        spec.name: spec.live().exclude(mirror_error="").count() for spec in SPECS.values()
    }
    metrics.put_now({METRIC_MIRROR_ERRORS: sum(result.errors_left.values())}, now)
    return result
