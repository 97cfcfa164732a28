"""What an operator must see at once: the conditions shown as banners in the admin.

Each check is a plain function returning the Alert it raises now, or None;
@check registers it. The admin home shows every active alert at the top, and
the broadcast pages show them too, each with what to do and a link to where
to do it. Checks must be cheap: they run on every page that shows them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from messaging.broadcasts import daily
from messaging.models import MessageStatus
from messaging.outbound import budget, config_errors
from messaging.reports import monitoring
from subscribers.mirror import reconcile

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Alert:
    level: str  # ERROR or WARNING
    text: str  # what is wrong and what to do
    url: str | None = None  # where to do it
    link_text: str = ""


Check = Callable[[], Alert | None]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn


def active() -> list[Alert]:
    """Every alert raised now, errors first."""
    raised = [alert for fn in CHECKS if (alert := fn()) is not None]
    return sorted(raised, key=lambda a: a.level != ERROR)


def _url(viewname: str, **query: str) -> str | None:
    try:
        url = reverse(viewname)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


# Beat fires the heartbeat every minute: five missed runs is not a hiccup.
HEARTBEAT_STALE = timedelta(minutes=5)
# The banner comes before the alarm (30 minutes), while there is time to act.
BROADCAST_LATE = timedelta(minutes=15)


@check
def provider_configuration() -> Alert | None:
    problem = config_errors.current()
    if not problem:
        return None
    return Alert(
        ERROR,
        f"Provider configuration error ({problem['provider']} {problem['code']}): "
        f"{problem['meaning']} — {problem['message']} (at {problem['at']}). "
        "Fix the settings, then dismiss this and resume the paused broadcasts.",
        _url("admin:messaging_broadcast_changelist"),
        "Broadcasts",
    )


@check
def monthly_budget() -> Alert | None:
    spend = budget.status()
    if not (spend.exhausted or spend.alerting):
        return None
    text = (
        f"Month-to-date spend {spend.spent:.2f} USD is {spend.percent}% of the "
        f"{spend.limit:.2f} USD monthly limit"
    )
    if spend.exhausted:
        return Alert(ERROR, text + "; bulk sending is paused until the limit is raised.")
    return Alert(WARNING, text + ".")


@check
def days_without_content() -> Alert | None:
    gaps = daily.days_without_content(daily.local_today())
    if not gaps:
        return None
    return Alert(
        WARNING,
        "No daily content and no DAILY_FALLBACK_TEXT for "
        + ", ".join(d.isoformat() for d in gaps)
        + ": those days will be skipped.",
        _url("admin:messaging_dailycontent_changelist"),
        "Add daily content",
    )


@check
def skipped_days() -> Alert | None:
    skipped = daily.skipped_days()
    if not skipped:
        return None
    return Alert(WARNING, "Daily broadcasts skipped for lack of content: " + ", ".join(skipped))


def _ago(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes} minutes" if minutes < 120 else f"{minutes // 60} hours"


@check
def beat_heartbeat() -> Alert | None:
    seen = monitoring.status()
    now = timezone.now()
    if seen is not None and now - seen.at < HEARTBEAT_STALE:
        return None
    when = f"for {_ago(now - seen.at)}" if seen else "since the portal started"
    return Alert(
        ERROR,
        f"No heartbeat from Celery beat and the workers {when}: nothing scheduled runs "
        "(the daily broadcast, delivery reports, retries). Check that the beat and worker "
        "processes are running and can reach the broker.",
        _url("admin:django_celery_beat_periodictask_changelist"),
        "Periodic tasks",
    )


@check
def daily_broadcast_late() -> Alert | None:
    seen = monitoring.status()
    due = seen.daily if seen else None
    late = due.late_by(timezone.now()) if due else None
    if due is None or late is None or late < BROADCAST_LATE:
        return None
    return Alert(
        ERROR,
        f"Today's broadcast ({due.day.isoformat()}) has not started: it was due at "
        f"{due.due_at:%H:%M} {due.due_at.tzinfo}, {_ago(late)} ago. Check beat and the "
        "workers, or start it with manage.py send_daily (it never sends twice).",
        _url("admin:messaging_broadcast_changelist"),
        "Broadcasts",
    )


@check
def messages_needing_review() -> Alert | None:
    seen = monitoring.status()
    if seen is None or not seen.needs_review:
        return None
    return Alert(
        WARNING,
        f"{seen.needs_review} message(s) need review: the provider may or may not have sent "
        "them and no status report settled it within an hour. Check each with the provider, "
        "then retry those it did not send.",
        _url("admin:messaging_message_changelist", status__exact=MessageStatus.NEEDS_REVIEW),
        "Messages needing review",
    )


@check
def mirror_errors() -> Alert | None:
    failing = reconcile.errors_seen()
    if not any(failing.values()):
        return None
    return Alert(
        WARNING,
        f"The DynamoDB mirror could not write {failing.get('subscribers', 0)} subscriber(s) "
        f"and {failing.get('conversations', 0)} conversation(s). They are retried every "
        "5 minutes; if this stays, check DynamoDB and run manage.py sync_dynamodb --verify.",
        _url("admin:subscribers_subscriber_changelist", mirror_error__gt=""),
        "Subscribers not mirrored",
    )
