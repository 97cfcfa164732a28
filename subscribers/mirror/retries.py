"""Running a DynamoDB write inside a Celery task: retry with back-off, then give up."""

from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError
from celery import Task
from django.conf import settings

from subscribers.mirror.write import MirrorError, retry_delay

# Errors that a later attempt may not meet: AWS trouble, a batch that gave up.
TRANSIENT = (ClientError, BotoCoreError, MirrorError)


def attempt(task: Task, work: Callable[[], object], give_up: Callable[[Exception], None]) -> None:
    """Run work; on AWS trouble retry the task with back-off, after the last try give up."""
    try:
        work()
    except TRANSIENT as exc:
        tries = task.request.retries
        if tries >= settings.DYNAMODB_MIRROR_RETRIES:
            give_up(exc)
            return
        delay = retry_delay(tries + 1, base=settings.DYNAMODB_MIRROR_RETRY_DELAY, cap=600)
        raise task.retry(exc=exc, countdown=delay) from exc
