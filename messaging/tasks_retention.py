"""The nightly retention task (scheduled in smsbot.celery's beat_schedule)."""

import logging

from celery import shared_task

from messaging import retention

log = logging.getLogger(__name__)


@shared_task(name="messaging.purge_old_bodies")
def purge_old_bodies() -> int:
    purged = retention.purge_old_bodies()
    if purged:
        log.info("retention: blanked the bodies of %d messages", purged)
    return purged
