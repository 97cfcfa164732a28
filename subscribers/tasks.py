"""Every Celery task of the subscribers app: the DynamoDB mirror and CSV exports."""

import logging

from celery import Task, shared_task
from django.conf import settings

from smsbot.celery import MIRROR_QUEUE, app
from smsbot.redaction import mask_phone
from subscribers import exporting, task_names
from subscribers.mirror import reconcile
from subscribers.mirror import write as mirror
from subscribers.mirror.retries import attempt

log = logging.getLogger(__name__)


def _sync_task(task: Task, spec: mirror.MirrorSpec, pk: int) -> None:
    def give_up(exc: Exception) -> None:
        mirror.record_error(spec, pk, exc)
        log.error("DynamoDB mirror of %s #%s failed: %s", spec.name, pk, mirror.describe_error(exc))

    attempt(task, lambda: mirror.sync_pk(spec, pk), give_up)


def _remove_task(task: Task, phone: str, specs: tuple[mirror.MirrorSpec, ...]) -> None:
    def remove() -> None:
        for spec in specs:
            mirror.reconcile_key(spec, phone)

    def give_up(exc: Exception) -> None:
        # No row left to note it on: sync_dynamodb --verify reports the leftover item.
        log.error(
            "DynamoDB removal of %s failed: %s", mask_phone(phone), mirror.describe_error(exc)
        )

    attempt(task, remove, give_up)


@shared_task(bind=True, name=task_names.MIRROR_SUBSCRIBER, ignore_result=True, max_retries=None)
def mirror_subscriber(self: Task, subscriber_id: int) -> None:
    _sync_task(self, mirror.SUBSCRIBERS, subscriber_id)


@shared_task(bind=True, name=task_names.MIRROR_CONVERSATION, ignore_result=True, max_retries=None)
def mirror_conversation(self: Task, conversation_id: int) -> None:
    _sync_task(self, mirror.CONVERSATIONS, conversation_id)


@shared_task(
    bind=True, name=task_names.MIRROR_DELETE_SUBSCRIBER, ignore_result=True, max_retries=None
)
def mirror_delete_subscriber(self: Task, phone: str) -> None:
    """Erasure: remove the number's subscriber and conversation items.

    An item stays (rewritten) only if a live row holds the number again.
    """
    _remove_task(self, phone, (mirror.SUBSCRIBERS, mirror.CONVERSATIONS))


@shared_task(
    bind=True, name=task_names.MIRROR_DELETE_CONVERSATION, ignore_result=True, max_retries=None
)
def mirror_delete_conversation(self: Task, phone_number: str) -> None:
    _remove_task(self, phone_number, (mirror.CONVERSATIONS,))


@shared_task(name=task_names.EXPORT_SUBSCRIBERS, ignore_result=True)
def export_subscribers(export_id: int) -> None:
    """Write a CSV export of the rows the admin list's filters select."""
    # The admin decides which rows its filters select; loaded here, not at start-up,
    # so a worker imports the admin only when it runs an export.
    from subscribers.admin.exports import matching_subscribers

    exporting.run(export_id, matching_subscribers)


@shared_task(name=task_names.RECONCILE_MIRROR, ignore_result=True)
def reconcile_mirror() -> dict[str, int]:
    """Write the rows the live mirror missed; a full batch queues the next at once."""
    if not settings.DYNAMODB_SYNC_ENABLED:
        return {}
    result = reconcile.reconcile()
    if result.error:
        log.warning("DynamoDB mirror reconcile stopped: %s", result.error)
    if result.more:
        app.send_task(task_names.RECONCILE_MIRROR, queue=MIRROR_QUEUE)
    return {"written": result.written, **result.errors_left}
