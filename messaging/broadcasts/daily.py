"""The daily broadcast: one per local date, whoever triggers it and however often.

In same-moment mode it is made and fanned out to everyone at once; in local-time
mode it is made when its first wave falls due, and messaging.broadcasts.waves
adds the waves.
"""

import logging
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from messaging import task_names
from messaging.broadcasts import schedule, states
from messaging.models import Broadcast, BroadcastState, DailyContent, SendMode
from smsbot import cache_reads, metrics, outbox
from smsbot.aws_names import METRIC_DAILY_STARTED
from smsbot.celery import BULK_QUEUE
from subscribers.localtime import local_date

log = logging.getLogger(__name__)

SKIPPED_DAYS_KEY = "messaging:daily-skipped"


@dataclass(frozen=True)
class DailyText:
    text: str
    content_sid: str = ""
    content_variables: dict | None = None
    fallback: bool = False


@dataclass(frozen=True)
class DailyResult:
    broadcast: Broadcast | None
    created: bool
    note: str


def local_today() -> date:
    """Today in the daily schedule's timezone: the date whose content goes out."""
    return local_date(timezone.now(), schedule.timezone_name())


def key_for(day: date) -> str:
    return f"{schedule.DAILY_KEY_PREFIX}{day.isoformat()}"


def text_for(day: date) -> DailyText | None:
    """The day's content, else the fallback text, else None (skip the day)."""
    content = DailyContent.objects.filter(date=day).first()
    if content is not None:
        return DailyText(
            content.text, content.whatsapp_content_sid, content.whatsapp_content_variables
        )
    if settings.DAILY_FALLBACK_TEXT:
        return DailyText(settings.DAILY_FALLBACK_TEXT, fallback=True)
    return None


def start(day: date | None = None, mode: str = SendMode.SAME_MOMENT) -> DailyResult:
    """Create (once) and start the broadcast for day, or continue an unfinished fan-out."""
    day = day or local_today()
    content = text_for(day)
    if content is None:
        if _remember_skipped(day):  # the minute check asks again: say so once
            log.warning("no daily content for %s and DAILY_FALLBACK_TEXT is empty: skipped", day)
        return DailyResult(None, False, f"no content for {day}: skipped")
    # The unique key turns a second beat, a restarted beat or a manual run into a no-op.
    broadcast, created = Broadcast.objects.get_or_create(
        idempotency_key=key_for(day),
        defaults={
            "name": f"Daily {day.isoformat()}" + (" (fallback text)" if content.fallback else ""),
            "date": day,
            "text": content.text,
            "whatsapp_content_sid": content.content_sid,
            "whatsapp_content_variables": content.content_variables or {},
            "state": BroadcastState.SCHEDULED,
            "mode": mode,
        },
    )
    if states.start(broadcast):
        # The dead-man's switch hears that the day's broadcast began (the alarm
        # smsbot-daily-broadcast-missed).
        metrics.put_now({METRIC_DAILY_STARTED: 1}, timezone.now())
        return DailyResult(broadcast, created, "started")
    if broadcast.state == BroadcastState.SENDING and not broadcast.fanout_done:
        with transaction.atomic():
            outbox.enqueue(task_names.FAN_OUT, broadcast.pk, queue=BULK_QUEUE)
        return DailyResult(broadcast, created, "fan-out continued")
    return DailyResult(broadcast, created, f"already {broadcast.state}")


def _remember_skipped(day: date) -> bool:
    """Note the day for the admin's warning; True the first time."""
    skipped = set(cache.get(SKIPPED_DAYS_KEY) or [])
    if day.isoformat() in skipped:
        return False
    skipped.add(day.isoformat())
    cache.set(SKIPPED_DAYS_KEY, sorted(skipped)[-30:], timeout=60 * 24 * 3600)
    return True


def skipped_days() -> list[str]:
    return list(cache_reads.get(SKIPPED_DAYS_KEY) or [])


def days_without_content(start_day: date, days: int = 7) -> list[date]:
    """Upcoming days that would be skipped (no content and no fallback)."""
    if settings.DAILY_FALLBACK_TEXT:
        return []
    wanted = [date.fromordinal(start_day.toordinal() + i) for i in range(days)]
    have = set(DailyContent.objects.filter(date__in=wanted).values_list("date", flat=True))
    return [d for d in wanted if d not in have]
