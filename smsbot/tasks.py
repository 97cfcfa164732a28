from celery import shared_task

from smsbot import outbox


@shared_task(name="smsbot.drain_outbox", ignore_result=True)
def drain_outbox() -> int:
    return outbox.drain()


@shared_task(name="smsbot.ping")
def ping(value: str = "pong") -> str:
    return value
