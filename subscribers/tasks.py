"""Celery tasks that keep DynamoDB in step with the database."""

import logging
from collections.abc import Callable
from datetime import date, timedelta

from botocore.exceptions import BotoCoreError, ClientError
from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

from smsbot import analytics
from smsbot.redaction import mask_phone
from subscribers import mirror

log = logging.getLogger(__name__)

# Errors that a later attempt may not meet: AWS trouble, a batch that gave up.
TRANSIENT = (ClientError, BotoCoreError, mirror.MirrorError)


def _attempt(task: Task, work: Callable[[], object], give_up: Callable[[Exception], None]) -> None:
    """Run work; on AWS trouble retry with back-off, and after the last try give up."""
    try:
        work()
    except TRANSIENT as exc:
        tries = task.request.retries
        if tries >= settings.DYNAMODB_MIRROR_RETRIES:
            give_up(exc)
            return
        delay = mirror.retry_delay(tries + 1, base=settings.DYNAMODB_MIRROR_RETRY_DELAY, cap=600)
        raise task.retry(exc=exc, countdown=delay) from exc


def _sync_task(task: Task, spec: mirror.MirrorSpec, pk: int) -> None:
    def give_up(exc: Exception) -> None:
        mirror.record_error(spec, pk, exc)
        log.error("DynamoDB mirror of %s #%s failed: %s", spec.name, pk, mirror.describe_error(exc))

    _attempt(task, lambda: mirror.sync_pk(spec, pk), give_up)


def _remove_task(task: Task, phone: str, specs: tuple[mirror.MirrorSpec, ...]) -> None:
    def remove() -> None:
        for spec in specs:
            mirror.reconcile_key(spec, phone)

    def give_up(exc: Exception) -> None:
        # No row left to note it on: sync_dynamodb --verify reports the leftover item.
        log.error(
            "DynamoDB removal of %s failed: %s", mask_phone(phone), mirror.describe_error(exc)
        )

    _attempt(task, remove, give_up)


@shared_task(bind=True, name="subscribers.mirror_subscriber", ignore_result=True, max_retries=None)
def mirror_subscriber(self: Task, subscriber_id: int) -> None:
    _sync_task(self, mirror.SUBSCRIBERS, subscriber_id)


@shared_task(
    bind=True, name="subscribers.mirror_conversation", ignore_result=True, max_retries=None
)
def mirror_conversation(self: Task, conversation_id: int) -> None:
    _sync_task(self, mirror.CONVERSATIONS, conversation_id)


@shared_task(
    bind=True, name="subscribers.mirror_delete_subscriber", ignore_result=True, max_retries=None
)
def mirror_delete_subscriber(self: Task, phone: str) -> None:
    """Erasure: remove the number's subscriber and conversation items.

    An item stays (rewritten) only if a live row holds the number again.
    """
    _remove_task(self, phone, (mirror.SUBSCRIBERS, mirror.CONVERSATIONS))


@shared_task(
    bind=True, name="subscribers.mirror_delete_conversation", ignore_result=True, max_retries=None
)
def mirror_delete_conversation(self: Task, phone_number: str) -> None:
    _remove_task(self, phone_number, (mirror.CONVERSATIONS,))


@shared_task(
    bind=True, name="subscribers.write_daily_analytics", ignore_result=True, max_retries=None
)
def write_daily_analytics(self: Task, day: str | None = None) -> None:
    """Write one UTC day's aggregates (yesterday by default) to the analytics table."""
    when = date.fromisoformat(day) if day else timezone.now().date() - timedelta(days=1)

    def give_up(exc: Exception) -> None:
        log.error("daily analytics for %s not written: %s", when, mirror.describe_error(exc))

    _attempt(self, lambda: analytics.write_daily(when), give_up)
