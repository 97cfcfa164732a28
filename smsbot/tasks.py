from celery import shared_task

from smsbot import outbox
from smsbot.imports import previews


@shared_task(name="smsbot.drain_outbox", ignore_result=True)
def drain_outbox() -> int:
    return outbox.drain()


@shared_task(name="smsbot.ping")
def ping(value: str = "pong") -> str:
    return value


@shared_task(name=previews.PREVIEW_IMPORT, ignore_result=True)
def preview_import(preview_id: int) -> None:
    previews.run(preview_id)
