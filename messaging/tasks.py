"""Celery tasks of the sending pipeline; the logic lives in plain functions."""

from celery import Task, shared_task
from celery.signals import worker_shutdown

from messaging import broadcasts, bulk_send, daily, dispatch, recovery
from messaging.models import Message, MessageKind
from smsbot.celery import BULK_QUEUE, REPLIES_QUEUE


@shared_task(bind=True, name="messaging.send_message", ignore_result=True, max_retries=None)
def send_message(self: Task, message_id: int) -> str:
    """Send one message; other parts of the portal queue this for replies too."""
    outcome = dispatch.send(message_id)
    if outcome.retry_in is not None:
        kind = Message.objects.filter(pk=message_id).values_list("kind", flat=True).first()
        queue = BULK_QUEUE if kind == MessageKind.BROADCAST else REPLIES_QUEUE
        raise self.retry(countdown=max(0.0, outcome.retry_in), queue=queue)
    return outcome.status


@shared_task(name="messaging.send_batch", ignore_result=True)
def send_batch(message_ids: list[int]) -> dict[str, int]:
    """Broadcast messages, many per task, sent concurrently."""
    return bulk_send.send_batch(message_ids)


@worker_shutdown.connect
def _close_send_pool(**kwargs: object) -> None:
    bulk_send.shutdown()


@shared_task(name="messaging.fan_out", ignore_result=True)
def fan_out(broadcast_id: int) -> int:
    return broadcasts.fan_out(broadcast_id)


@shared_task(name="messaging.queue_sends", ignore_result=True)
def queue_sends(message_ids: list[int]) -> None:
    broadcasts.queue_sends(message_ids)


@shared_task(name="messaging.broadcast_progress", ignore_result=True)
def broadcast_progress(broadcast_id: int) -> None:
    broadcasts.refresh_progress(broadcast_id)


@shared_task(name="messaging.start_daily_broadcast", ignore_result=True)
def start_daily_broadcast() -> str:
    """Fired by the "daily-broadcast" periodic task; idempotent per local date."""
    return daily.start().note


@shared_task(name="messaging.sweep_stale_messages", ignore_result=True)
def sweep_stale_messages() -> dict[str, int]:
    result = recovery.sweep()
    return {
        "requeued": result.requeued,
        "stuck": result.stuck,
        "fanouts": result.fanouts,
        "early_reports": result.early_reports,
    }
