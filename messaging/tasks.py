"""Every Celery task of the messaging app, and the beat table of the whole project.

Tasks are thin: the logic lives in plain functions that tests call directly.
Each task is registered under its messaging.task_names constant, which is how
the rest of the code queues it.
"""

import logging
from datetime import date, timedelta

from botocore.exceptions import BotoCoreError, ClientError
from celery import Task, shared_task
from celery.schedules import crontab
from celery.signals import worker_shutdown
from django.db import transaction
from django.utils import timezone

from messaging import retention, task_names
from messaging.broadcasts import daily, fanout, progress, schedule, states, waves
from messaging.confirmations import hourly_cap
from messaging.delivery import brake, horizons
from messaging.models import Message, MessageKind
from messaging.outbound import (
    bulk_send,
    config_errors,
    dispatch,
    provider_errors,
    recovery,
)
from messaging.providers import console, opt_out_sync
from messaging.providers.sns import delivery_logs, subscriptions
from messaging.providers.twilio import checks as twilio_checks
from messaging.providers.twilio import prices as twilio_prices
from messaging.reports import analytics, monitoring, rollups
from smsbot import opt_out_list
from smsbot.celery import BULK_QUEUE, MIRROR_QUEUE, REPLIES_QUEUE, app
from smsbot.secrets import twilio_credentials
from smsbot.tasks import drain_outbox
from subscribers.mirror import retries
from subscribers.mirror.write import describe_error
from subscribers.tasks import reconcile_mirror

log = logging.getLogger(__name__)


@shared_task(bind=True, name=task_names.SEND_MESSAGE, ignore_result=True, max_retries=None)
def send_message(self: Task, message_id: int) -> str:
    """Send one message; other parts of the portal queue this for replies too."""
    outcome = dispatch.send(message_id)
    if outcome.retry_in is not None:
        kind = Message.objects.filter(pk=message_id).values_list("kind", flat=True).first()
        queue = BULK_QUEUE if kind == MessageKind.BROADCAST else REPLIES_QUEUE
        raise self.retry(countdown=max(0.0, outcome.retry_in), queue=queue)
    return outcome.status


@shared_task(name=task_names.SEND_BATCH, ignore_result=True)
def send_batch(message_ids: list[int]) -> dict[str, int]:
    """Broadcast messages, many per task, sent concurrently."""
    return bulk_send.send_batch(message_ids)


@worker_shutdown.connect
def _close_send_pool(**kwargs: object) -> None:
    bulk_send.shutdown()


@shared_task(name=task_names.FAN_OUT, ignore_result=True)
def fan_out(broadcast_id: int) -> int:
    return fanout.fan_out(broadcast_id)


@shared_task(name=task_names.QUEUE_SENDS, ignore_result=True)
def queue_sends(message_ids: list[int]) -> None:
    fanout.queue_sends(message_ids)


@shared_task(name=task_names.BROADCAST_PROGRESS, ignore_result=True)
def broadcast_progress(broadcast_id: int) -> None:
    progress.refresh_progress(broadcast_id)


@shared_task(name=task_names.START_DAILY_BROADCAST, ignore_result=True)
def start_daily_broadcast(mode: str = schedule.SAME_MOMENT) -> str:
    """Fired by the "daily-broadcast" periodic task; idempotent per local date.

    `mode` is the delivery mode the Daily schedule screen stores in the periodic
    task's kwargs, which beat passes here. In local-time mode the minute check
    (check_delivery_windows) sends the day in waves instead.
    """
    log.info("daily broadcast fired (delivery mode %s)", mode)
    schedule.record_run()
    if mode == schedule.LOCAL_TIME:
        return "local time: the waves go out as they fall due"
    return daily.start().note


@shared_task(name=task_names.START_DUE_BROADCASTS, ignore_result=True)
def start_due_broadcasts() -> list[int]:
    """Start the broadcasts scheduled for a time that has come."""
    return states.start_due()


@shared_task(name=task_names.CHECK_DELIVERY_WINDOWS, ignore_result=True)
def check_delivery_windows() -> dict[str, int]:
    """Start the local-time waves now due; publish messages held by quiet hours."""
    result = waves.check()
    return {"waves": result.waves, "released": result.released}


@shared_task(name=task_names.CONSOLE_DELIVERY_REPORT, ignore_result=True)
def console_delivery_report(provider_message_id: str) -> None:
    """The console provider's simulated status callback, a few seconds after a send."""
    console.report_delivery(provider_message_id)


@shared_task(name=task_names.SWEEP_STALE_MESSAGES, ignore_result=True)
def sweep_stale_messages() -> dict[str, int]:
    result = recovery.sweep()
    return {
        "requeued": result.requeued,
        "stuck": result.stuck,
        "fanouts": result.fanouts,
        "early_reports": result.early_reports,
    }


@shared_task(name=task_names.REFRESH_ROLLUPS, ignore_result=True)
def refresh_rollups() -> dict[str, int]:
    return rollups.refresh_recent()


@shared_task(name=task_names.PURGE_OLD_BODIES)
def purge_old_bodies() -> int:
    purged = retention.purge_old_bodies()
    if purged:
        log.info("retention: blanked the bodies of %d messages", purged)
    return purged


@shared_task(
    name=task_names.CONFIRM_SNS_SUBSCRIPTION,
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def confirm_sns_subscription(topic_arn: str, token: str) -> str:
    return subscriptions.confirm(topic_arn, token)


@shared_task(bind=True, name=task_names.WRITE_DAILY_ANALYTICS, ignore_result=True, max_retries=None)
def write_daily_analytics(self: Task, day: str | None = None) -> None:
    """Write one UTC day's aggregates (yesterday by default) to the analytics table."""
    when = date.fromisoformat(day) if day else timezone.now().date() - timedelta(days=1)

    def give_up(exc: Exception) -> None:
        log.error("daily analytics for %s not written: %s", when, describe_error(exc))

    retries.attempt(self, lambda: analytics.write_daily(when), give_up)


@shared_task(name=task_names.FETCH_SNS_DELIVERY, ignore_result=True)
def fetch_sns_delivery() -> dict[str, int]:
    """Apply the SMS delivery statuses and prices SNS logged since the last run."""
    if not delivery_logs.wanted():
        return {}
    try:
        result = delivery_logs.fetch()
    except delivery_logs.DeliveryLogError as exc:
        log.warning("SNS delivery logs not read: %s", exc)
        return {}
    return {name: result.total(name) for name in ("lines", "applied", "not_ours", "malformed")}


@shared_task(name=task_names.ACT_ON_PROVIDER_ERROR, ignore_result=True)
def act_on_provider_error(message_id: int, code: str, provider_message_id: str) -> str:
    """What a reported error does to its message and broadcast (pause, template, retry)."""
    return provider_errors.act_on_report(message_id, code, provider_message_id)


@shared_task(name=task_names.MARK_UNKNOWN_OUTCOMES, ignore_result=True)
def mark_unknown_outcomes() -> dict[str, int]:
    """Sent messages past their provider's report horizon become unknown, per provider."""
    marked = horizons.mark_unknown()
    for broadcast_id in sorted(marked.broadcast_ids):
        progress.refresh_progress(broadcast_id)
    if marked.oldest is not None:  # their days may be older than the rollups' refresh
        rollups.refresh(rollups.day_of(marked.oldest), rollups.today() + timedelta(days=1))
    return marked.per_provider


@shared_task(bind=True, name=task_names.ANNOUNCE_BRAKE, ignore_result=True, max_retries=6)
def announce_brake(self: Task, broadcast_id: int) -> str:
    """Tell the alerts topic which broadcast the brake paused and what to do; a throttle,
    5xx or outage is retried."""
    try:
        return brake.announce(broadcast_id)
    except (ClientError, BotoCoreError) as exc:
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc


@shared_task(name=task_names.FETCH_TWILIO_PRICES, ignore_result=True)
def fetch_twilio_prices() -> dict[str, int | str]:
    """Record the actual prices of Twilio messages final a while and not yet priced."""
    if not twilio_credentials():
        return {}
    result = twilio_prices.fetch_due()
    return vars(result)


def run_twilio_checks() -> list[twilio_checks.Check]:
    """verify_twilio's checks; the failed ones feed the admin's banner until a run passes."""
    results = twilio_checks.run()
    failed = [{"name": c.name, "detail": c.detail, "fix": c.fix} for c in results if not c.ok]
    config_errors.remember_checks(failed, timezone.now().isoformat(timespec="seconds"))
    return results


@shared_task(name=task_names.VERIFY_TWILIO, ignore_result=True)
def verify_twilio() -> list[str]:
    """Twilio's checklist, daily: registrations and template approvals change by themselves."""
    if not twilio_credentials():
        return []
    return [check.line() for check in run_twilio_checks()]


@shared_task(name=task_names.HEARTBEAT, ignore_result=True)
def heartbeat() -> int:
    """Beat fires it, a worker runs it: proof that both are alive (the dead-man's switch)."""
    return monitoring.heartbeat()


@shared_task(name=task_names.RELEASE_CONFIRMATIONS, ignore_result=True)
def release_confirmations() -> int:
    """Queue the confirmations the hourly cap held, as it has room: in turn per sign-up
    source, oldest first within each."""
    with transaction.atomic():
        hourly_cap.serialize()
        return len(hourly_cap.release(timezone.now()))


@shared_task(bind=True, name=task_names.SYNC_AWS_OPT_OUT, ignore_result=True, max_retries=8)
def sync_aws_opt_out(self: Task, subscriber_id: int, to_status: str) -> list[str]:
    """One consent change onto AWS's opt-out list; a throttle, 5xx or outage is retried."""
    try:
        return opt_out_sync.sync(subscriber_id, to_status)
    except (ClientError, BotoCoreError) as exc:
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


@shared_task(name=task_names.RECONCILE_AWS_OPT_OUTS, ignore_result=True)
def reconcile_aws_opt_outs() -> list[str]:
    """AWS's opt-out lists against the portal's consent: repaired or shown, never resolved."""
    try:
        return [r.line() for r in opt_out_sync.reconcile()]
    except (ClientError, BotoCoreError, opt_out_list.Refused) as exc:
        log.warning("opt-out lists not reconciled: %s", describe_error(exc))
        return []


# The beat table: every periodic task of the project, the other apps' included
# (smsbot imports no app, and subscribers no messaging, so the table lives at the
# top of the tree). The daily broadcast itself is a database row operators edit
# (messaging.broadcasts.schedule). django-celery-beat copies these at start.
# name, schedule (seconds or crontab), task, options
BEAT_TABLE: tuple[tuple[str, float | crontab, Task, dict[str, object]], ...] = (
    # A webhook's follow-up written while the broker was down is published here.
    ("drain-outbox", 30.0, drain_outbox, {}),
    # Re-publish lost sends, resume stopped fan-outs, flag dead sends.
    ("sweep-stale-messages", 60.0, sweep_stale_messages, {}),
    # A broadcast scheduled for a time starts within this many seconds of it.
    ("start-scheduled-broadcasts", 15.0, start_due_broadcasts, {}),
    # At the start of every minute, when local send times fall (waves, quiet hours ending).
    ("delivery-windows", crontab(minute="*"), check_delivery_windows, {}),
    ("refresh-rollups", 300.0, refresh_rollups, {"queue": BULK_QUEUE}),
    # On the replies queue, which workers serve ahead of bulk: a broadcast cannot starve them.
    ("fetch-sns-delivery", 60.0, fetch_sns_delivery, {"queue": REPLIES_QUEUE}),
    # Actual Twilio prices, a while after each message is final (one run at a time).
    ("fetch-twilio-prices", 60.0, fetch_twilio_prices, {"queue": BULK_QUEUE, "expires": 55}),
    # Sent messages with no delivery report past their provider's horizon: unknown.
    ("mark-unknown-outcomes", crontab(hour=5, minute=0), mark_unknown_outcomes,
     {"queue": BULK_QUEUE}),
    # Registrations and template approvals change on Twilio's side: checked daily.
    ("verify-twilio", crontab(hour=6, minute=0), verify_twilio, {"queue": BULK_QUEUE}),
    # Held sign-up confirmations go out as the cap's rolling hour frees room.
    ("release-confirmations", 60.0, release_confirmations,
     {"queue": REPLIES_QUEUE, "expires": 55}),
    # A heartbeat that waited out a broker outage proves nothing about now: it expires.
    ("heartbeat", 60.0, heartbeat, {"queue": REPLIES_QUEUE, "expires": 55}),
    ("purge-old-message-bodies", crontab(hour=3, minute=30), purge_old_bodies,
     {"queue": BULK_QUEUE}),
    # AWS's opt-out lists against the portal's consent (invariant 11), daily.
    ("reconcile-aws-opt-outs", crontab(hour=5, minute=40), reconcile_aws_opt_outs,
     {"queue": BULK_QUEUE}),
    # Yesterday's (UTC) figures to the DynamoDB analytics table.
    ("dynamodb-daily-analytics", crontab(hour=0, minute=15), write_daily_analytics,
     {"queue": BULK_QUEUE}),
    # The rows the live DynamoDB mirror missed.
    ("dynamodb-mirror-reconcile", 300.0, reconcile_mirror, {"queue": MIRROR_QUEUE}),
)  # fmt: skip
for name, every, task, options in BEAT_TABLE:
    app.add_periodic_task(every, task.s(), name=name, **options)
