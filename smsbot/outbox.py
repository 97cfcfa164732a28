"""Queue follow-up work so that it survives a broker outage (transactional outbox)."""

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from smsbot.celery import REPLIES_QUEUE, app
from smsbot.models import OutboxTask

log = logging.getLogger(__name__)

# Rows younger than this are still being published by their own request.
DRAIN_GRACE = timedelta(seconds=15)


def enqueue(task_name: str, *args: Any, queue: str = REPLIES_QUEUE, **kwargs: Any) -> OutboxTask:
    """Record the task in the current transaction; publish it once that commits."""
    item = OutboxTask.objects.create(
        task_name=task_name, args=list(args), kwargs=kwargs, queue=queue
    )
    transaction.on_commit(lambda: publish(item))
    return item


def publish(item: OutboxTask) -> bool:
    try:
        app.send_task(
            item.task_name, args=item.args, kwargs=item.kwargs, queue=item.queue, retry=False
        )
    except Exception as exc:  # noqa: BLE001 - any broker failure leaves the row for the drain
        OutboxTask.objects.filter(pk=item.pk).update(
            attempts=item.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:500]
        )
        log.warning("broker unavailable, %s kept in the outbox: %s", item.task_name, exc)
        return False
    OutboxTask.objects.filter(pk=item.pk).delete()
    return True


def drain(limit: int = 500) -> int:
    """Publish rows left behind by a broker outage; returns how many went out."""
    cutoff = timezone.now() - DRAIN_GRACE
    published = 0
    for item in OutboxTask.objects.filter(created_at__lt=cutoff).order_by("id")[:limit]:
        if not publish(item):
            break
        published += 1
    return published
