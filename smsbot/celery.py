"""The Celery app: two queues, replies served ahead of bulk, late acks."""

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Queue
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smsbot.settings")

REPLIES_QUEUE = "replies"
BULK_QUEUE = "bulk"

# Issue 5: the embedded broker writes message files atomically (see smsbot/broker_fs.py).
TRANSPORT_ALIASES["filesystem"] = "smsbot.broker_fs:Transport"

app = Celery("smsbot")
# Broker URL and transport options come from settings (CELERY_* names).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
    task_queues=(Queue(REPLIES_QUEUE), Queue(BULK_QUEUE)),
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
    # Maintenance schedules; django-celery-beat copies them into its table at start.
    beat_schedule={
        "drain-outbox": {"task": "smsbot.drain_outbox", "schedule": 30.0},
        # Issue 6: yesterday's (UTC) aggregates to the DynamoDB analytics table.
        "dynamodb-daily-analytics": {
            "task": "subscribers.write_daily_analytics",
            "schedule": crontab(hour=0, minute=15),
            "options": {"queue": BULK_QUEUE},
        },
        # Issue 8: reporting rollups (messaging/rollups.py).
        "refresh-rollups": {
            "task": "messaging.refresh_rollups",
            "schedule": 300.0,
            "options": {"queue": BULK_QUEUE},
        },
        # Issue 5: nightly retention (a no-op unless MESSAGE_RETENTION_DAYS is set).
        "purge-old-message-bodies": {
            "task": "messaging.purge_old_bodies",
            "schedule": crontab(hour=3, minute=30),
            "options": {"queue": BULK_QUEUE},
        },
        # Issue 5: re-publish lost sends, resume stopped fan-outs, flag dead sends.
        "sweep-stale-messages": {"task": "messaging.sweep_stale_messages", "schedule": 60.0},
    },
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
# Issue 8: the rollup task lives next to the rollups it refreshes.
app.autodiscover_tasks(related_name="rollups")
