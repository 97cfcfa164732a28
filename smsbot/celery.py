"""The Celery app: replies served ahead of the mirror's reconcile and bulk, late acks."""

import os

from celery import Celery
from kombu import Queue
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsbot.settings")

REPLIES_QUEUE = "replies"
BULK_QUEUE = "bulk"
# The DynamoDB mirror's periodic reconcile: workers take it after replies and before
# bulk, so a broadcast cannot hold back the mirror's healing for its whole length.
MIRROR_QUEUE = "mirror"

# The embedded broker writes message files atomically (see smsbot/broker_fs.py).
TRANSPORT_ALIASES["filesystem"] = "smsbot.broker_fs:Transport"

app = Celery("smsbot")
# Broker URL and transport options come from settings (CELERY_* names).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
    task_queues=(Queue(REPLIES_QUEUE), Queue(MIRROR_QUEUE), Queue(BULK_QUEUE)),
    task_default_queue=REPLIES_QUEUE,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_soft_time_limit=60,
    task_time_limit=90,
    task_serializer="json",
    accept_content=["json"],
    timezone="UTC",
    enable_utc=True,
    beat_scheduler="django_celery_beat.schedulers:DatabaseScheduler",
    worker_hijack_root_logger=False,
    # Every periodic task, smsbot's own included, is in one beat table at the top of
    # the tree (messaging.tasks.BEAT_TABLE), since this module imports no app.
)


@app.on_after_configure.connect
def _embedded_broker_setup(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    if settings.CELERY_EMBEDDED_BROKER:
        for sub in ("queue", "processed", "control"):
            (settings.CELERY_BROKER_FOLDER / sub).mkdir(parents=True, exist_ok=True)
        # The filesystem transport has no fan-out exchange for remote control.
        sender.conf.worker_enable_remote_control = False


app.autodiscover_tasks()
