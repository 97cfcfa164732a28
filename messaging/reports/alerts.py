"""What an operator must see at once: the conditions shown as banners in the admin.

Each check is a plain function returning the Alert it raises now, or None;
@check registers it. The admin home and the Daily content list show every
active alert at the top; a broadcast's pages show those about sending (what
stops or holds a send, or makes its outcome doubtful). Each says what to do,
with a link to where to do it. Checks must be cheap: they run on every page that shows them. A
check whose condition is usually absent names the rows it looks for as its
probe; every probe is asked in one query, so the quiet case costs one round trip.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from messaging.billing import budget, pricing
from messaging.broadcasts import daily, schedule
from messaging.confirmations import hourly_cap
from messaging.delivery import brake
from messaging.models import Broadcast, BroadcastState, Message, MessageStatus, ReplyMute
from messaging.outbound import config_errors, failover
from messaging.reports import monitoring
from smsbot import cache_reads, sms_account, timezones
from smsbot.redaction import mask_phone
from subscribers import provider_opt_outs
from subscribers.models import Conversation, Subscriber

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Alert:
    level: str  # ERROR or WARNING
    text: str  # what is wrong and what to do
    url: str | None = None  # where to do it
    link_text: str = ""
    # More places, one per thing named (link text, url): the muted numbers' pages.
    links: tuple[tuple[str, str], ...] = ()
    # (link text, url) offered instead of url to a user who may not open url but may
    # open this one (smsbot.admin_links.may_open): the list to see, for a role that
    # cannot add to it.
    instead: tuple[str, str] | None = None


Check = Callable[[], Alert | None]
# The rows whose existence a check needs before it can raise anything.
Probe = Callable[[], QuerySet]


@dataclass(frozen=True)
class Registered:
    fn: Check
    probe: Probe | None
    # About sending: what stops or holds a send, or makes its outcome doubtful. A
    # broadcast's pages show only these; the admin home and the Daily content list all.
    sending: bool


CHECKS: list[Registered] = []


def check(fn: Check | None = None, *, probe: Probe | None = None, sending: bool = False) -> Any:
    """Register a check. probe: the rows it reads, when most of the time there are
    none: every check's probe is asked in one query, and only those that find rows run."""

    def register(fn: Check) -> Check:
        CHECKS.append(Registered(fn, probe, sending))
        return fn

    return register(fn) if fn is not None else register


def active(sending_only: bool = False) -> list[Alert]:
    """Every alert raised now (only those about sending, for a broadcast's pages), errors
    first. The checks share one read of the schedule's timezone, one query for their
    probes and one round trip to the cache."""
    checks = [c for c in CHECKS if c.sending or not sending_only]
    found = _any_rows([c.probe() for c in checks if c.probe is not None])
    with schedule.read_once(), cache_reads.batch(_cached_keys()):
        raised = [
            alert
            for c in checks
            if (c.probe is None or next(found)) and (alert := c.fn()) is not None
        ]
    return sorted(raised, key=lambda a: a.level != ERROR)


def _cached_keys() -> list[str]:
    """What the checks read from the cache: fetched together, in one round trip."""
    return [
        config_errors.KEY,
        config_errors.CHECKS_KEY,
        *failover.cool_down_keys(),
        budget.cache_key(),
        daily.SKIPPED_DAYS_KEY,
        monitoring.STATUS_KEY,
    ]


def _any_rows(querysets: list[QuerySet]) -> Iterator[bool]:
    """Whether each queryset has a row, asked of the database in one round trip:
    a page of banners pays one query for all the conditions that are usually absent."""
    parts: list[str] = []
    params: list[Any] = []
    for qs in querysets:
        try:
            sql, args = qs.values("pk").order_by().query.sql_with_params()
        except EmptyResultSet:
            parts.append("false")
            continue
        parts.append(f"EXISTS({sql})")
        params.extend(args)
    if not parts:
        return iter(())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        return iter(bool(v) for v in cursor.fetchone())


def _url(viewname: str) -> str | None:
    try:
        return reverse(viewname)
    except NoReverseMatch:
        return None


# Beat fires the heartbeat every minute: five missed runs is not a hiccup.
HEARTBEAT_STALE = timedelta(minutes=5)
# A Twilio send whose answer was lost settles by itself when its status callback
# comes; one that has not within an hour will not, and needs a person.
REVIEW_AFTER = timedelta(hours=1)


@check(sending=True)
def provider_configuration() -> Alert | None:
    problem = config_errors.current()
    if not problem:
        return None
    fix = problem.get("fix") or "Fix the settings"
    if problem.get("fix") and problem.get("help_url"):
        return Alert(
            ERROR,
            f"Provider configuration error ({problem['provider']} {problem['code']}): "
            f"{problem['meaning']} — {problem['message']} (at {problem['at']}). What to do: "
            f"{fix} (README › Twilio account checks); then dismiss this and resume the paused "
            "broadcasts. Nothing more is sent until then.",
            problem["help_url"],
            f"Twilio error {problem['code']}: causes and fixes",
        )
    return Alert(
        ERROR,
        f"Provider configuration error ({problem['provider']} {problem['code']}): "
        f"{problem['meaning']} — {problem['message']} (at {problem['at']}). "
        f"{fix}, then dismiss this and resume the paused broadcasts.",
        _url("admin:messaging_broadcast_changelist"),
        "Broadcasts",
    )


@check(sending=True)
def provider_cooling_down() -> Alert | None:
    cooling = failover.cool_downs()
    if not cooling:
        return None
    backup = pricing.provider_label(settings.SMS_FAILOVER)
    named = "; ".join(
        f"{pricing.provider_label(c['provider'])} failed {c['failures']} times without sending "
        f"(last: {c['code']} {c['message']}) and is skipped until "
        f"{timezones.shown(datetime.fromisoformat(c['until']))}"
        for c in cooling
    )
    return Alert(
        WARNING,
        f"Provider failover: {named}. Messages not yet tried go through {backup} meanwhile, "
        "at its prices; none that may have been sent is moved. Check the provider's status "
        "page (README › Provider failover).",
        _url("admin:messaging_message_changelist"),
        "Messages",
    )


@check(sending=True)
def twilio_account() -> Alert | None:
    last = config_errors.last_checks()
    if not last or not last["failed"]:
        return None
    failed = "; ".join(f"{c['name']}: {c['detail']} — {c['fix']}" for c in last["failed"])
    return Alert(
        ERROR,
        f"Twilio account checks failed (verify_twilio, {last['at']}): {failed}. "
        "See README › Twilio account checks; run manage.py verify_twilio after fixing.",
    )


@check(sending=True)
def monthly_budget() -> Alert | None:
    spend = budget.status()
    if not (spend.exhausted or spend.alerting):
        return None
    text = (
        f"Month-to-date spend {spend.spent:.2f} USD is {spend.percent}% of the "
        f"{spend.limit:.2f} USD monthly limit"
    )
    if spend.exhausted:
        return Alert(
            ERROR,
            text + "; broadcasts and bot replies stop until the limit is raised (STOP and "
            "HELP are still answered, once a day per number).",
        )
    return Alert(WARNING, text + ".")


@check(sending=True)
def sms_sandbox() -> Alert | None:
    # Read through sms_account's cache: AWS is asked at most every few minutes.
    sandbox = sms_account.cached_sandbox()
    if not sandbox or not sandbox.in_sandbox:
        return None
    return Alert(
        WARNING,
        f"The AWS account is in the SMS sandbox ({sandbox.service}): messages reach only its "
        f"{len(sandbox.verified)} verified destination number(s), every other recipient is "
        "refused. Verify test numbers with manage.py sms_sandbox add, and request production "
        "access before the first broadcast.",
        sandbox.help_url,
        "How to leave the SMS sandbox",
    )


@check
def days_without_content() -> Alert | None:
    gaps = daily.days_without_content(daily.local_today())
    if not gaps:
        return None
    add = _url("admin:messaging_dailycontent_add")
    listed = _url("admin:messaging_dailycontent_changelist")
    return Alert(
        WARNING,
        "No daily content and no DAILY_FALLBACK_TEXT for "
        + ", ".join(timezones.shown_date(d) for d in gaps)
        + ": those days will be skipped.",
        # The add form opens on the first day missing.
        f"{add}?{urlencode({'date': gaps[0].isoformat()})}" if add else None,
        "Add daily content",
        instead=("See daily content", listed) if listed else None,
    )


@check(sending=True)
def skipped_days() -> Alert | None:
    skipped = daily.skipped_days()
    if not skipped:
        return None
    return Alert(WARNING, "Daily broadcasts skipped for lack of content: " + ", ".join(skipped))


def _needing_review() -> QuerySet:
    return Message.objects.filter(
        status=MessageStatus.NEEDS_REVIEW, updated_at__lt=timezone.now() - REVIEW_AFTER
    )


@check(probe=_needing_review, sending=True)
def messages_needing_review() -> Alert | None:
    count = _needing_review().count()
    if not count:
        return None
    url = _url("admin:messaging_message_changelist")
    return Alert(
        WARNING,
        f"{count} message(s) need review: a send ended without a clear answer and no "
        "status report settled it within an hour, so the provider may have sent them. "
        "Check the provider's console, then retry the ones it did not send.",
        f"{url}?status__exact={MessageStatus.NEEDS_REVIEW}" if url else None,
        "Messages needing review",
    )


def _unknown() -> QuerySet:
    return Message.objects.filter(status=MessageStatus.UNKNOWN)


@check(probe=_unknown, sending=True)
def unknown_outcomes() -> Alert | None:
    """Messages the daily horizon check found without a report (messaging.delivery.horizons)."""
    rows = _unknown().order_by().values_list("provider").annotate(n=Count("id"))
    per_provider = sorted(rows)
    if not per_provider:
        return None
    counts = ", ".join(f"{provider} {n}" for provider, n in per_provider)
    url = _url("admin:messaging_message_changelist")
    return Alert(
        WARNING,
        f"Outcome unknown: {counts} message(s) got no delivery report within their "
        "provider's horizon (SNS 72 h, Twilio DELIVERY_REPORT_HORIZON_TWILIO_HOURS). They "
        "count as unknown, not sent or delivered; a late report still settles them. Check "
        "the provider's status callback or delivery-log settings.",
        f"{url}?outcome=unknown" if url else None,
        "Messages with unknown outcome",
    )


def _paused() -> QuerySet:
    return Broadcast.objects.filter(state=BroadcastState.PAUSED)


@check(probe=_paused, sending=True)
def paused_broadcasts() -> Alert | None:
    """Paused broadcasts (one query). One the brake paused comes first, an error, in the
    words the alerts topic got (brake.notice) with a link to its page."""
    paused = list(
        _paused()
        .order_by(F("braked_at").desc(nulls_last=True), "-pk")
        .only("pk", "name", "pause_reason", "braked_at")
    )
    if not paused:
        return None
    braked = [b for b in paused if b.braked_at is not None][:3]
    others = [b for b in paused if b.braked_at is None]
    text = " ".join(brake.notice(b) for b in braked)
    if others:
        names = "; ".join(f"{b.name} ({b.pause_reason or 'paused'})" for b in others[:3])
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        text += (
            f"{' ' if text else ''}Paused broadcasts: {names}{more}. Nothing more is sent "
            "until they are resumed."
        )
    url = _url("admin:messaging_broadcast_changelist")
    return Alert(
        ERROR if braked else WARNING,
        text,
        f"{url}?state__exact={BroadcastState.PAUSED}" if url else None,
        "Broadcasts",
        links=tuple((b.name, brake.page_url(b)) for b in braked),
    )


MIRROR_ERRORS_KEY = "messaging:alerts:mirror-errors"
# Rows with a mirror error are found by a scan (the column has no index): once a minute.
MIRROR_ERRORS_SECONDS = 60


@check
def mirror_errors() -> Alert | None:
    if not settings.DYNAMODB_SYNC_ENABLED:
        return None
    failed = cache.get_or_set(MIRROR_ERRORS_KEY, _mirror_failures, MIRROR_ERRORS_SECONDS)
    if not any(n for _, n, _ in failed):
        return None
    counts = ", ".join(f"{n} {label}" for label, n, _ in failed if n)
    url = next(url for _, n, url in failed if n)
    return Alert(
        ERROR,
        f"The DynamoDB mirror failed to write {counts}: other systems reading DynamoDB see "
        "old data. Fix the cause (the error is on each row), then use Re-sync to DynamoDB.",
        url,
        "Rows with a mirror error",
    )


def _mirror_failures() -> list[tuple[str, int, str | None]]:
    found = []
    for label, model, viewname in (
        ("subscriber(s)", Subscriber, "admin:subscribers_subscriber_changelist"),
        ("conversation(s)", Conversation, "admin:subscribers_conversation_changelist"),
    ):
        url = _url(viewname)
        found.append(
            (
                label,
                model.objects.exclude(mirror_error="").count(),
                f"{url}?mirror_error__gt=" if url else None,
            )
        )
    return found


@check(probe=hourly_cap.held)
def confirmations_waiting() -> Alert | None:
    held = hourly_cap.waiting()
    if held is None:
        return None
    cap = settings.OPTIN_CONFIRMATIONS_PER_HOUR
    url = _url("admin:subscribers_subscriber_changelist")
    return Alert(
        WARNING,
        f"{held.count} sign-up confirmation(s) are waiting, the oldest since "
        f"{timezones.shown(held.oldest)}: the cap of {cap} an hour "
        "(OPTIN_CONFIRMATIONS_PER_HOUR), or its share for one country or number prefix, is "
        "used up. They go out oldest first as "
        "the cap has room; one still waiting after a day is not sent. A burst of sign-ups is "
        "how SMS pumping looks: check the pending numbers and opt out those that are not "
        "genuine; raise OPTIN_CONFIRMATIONS_PER_HOUR only if the sign-ups are real.",
        f"{url}?consent_status__exact=pending" if url else None,
        "Pending subscribers",
    )


# The banner names this many muted numbers, then counts the rest.
MUTED_SHOWN = 10


def _muted() -> QuerySet:
    return ReplyMute.objects.filter(muted_until__gt=timezone.now())


@check(probe=_muted)
def muted_numbers() -> Alert | None:
    mutes = list(_muted().order_by("-created_at"))
    if not mutes:
        return None
    latest = {}
    for mute in mutes:
        latest.setdefault(mute.phone, mute)
    shown = list(latest.values())[:MUTED_SHOWN]
    pages = dict(
        Subscriber.objects.filter(phone__in=[m.phone for m in shown]).values_list("phone", "pk")
    )
    links = []
    for mute in shown:
        url = _subscriber_url(pages.get(mute.phone), mute.phone)
        if url:
            links.append((f"{mask_phone(mute.phone)} ({mute.reason})", url))
    more = len(latest) - len(shown)
    return Alert(
        WARNING,
        f"The bot stopped answering {len(latest)} number(s) whose messages looked like a loop "
        "with another bot or a flood (BOT_LOOP_REPEATS, BOT_LOOP_BURST_MESSAGES); each is "
        f"answered again {settings.BOT_LOOP_MUTE_MINUTES} minutes after its mute began. STOP "
        "and HELP still get their once-a-day answer. Check the numbers below and opt out "
        "those that are not people." + (f" {more} more not shown." if more > 0 else ""),
        links=tuple(links),
    )


@check(probe=provider_opt_outs.held_for_review, sending=True)
def aws_opt_out_differences() -> Alert | None:
    """Invariant 11: numbers AWS holds opted out that the portal holds opted in."""
    held = provider_opt_outs.held_for_review()
    count = held.count()
    if not count:
        return None
    links = tuple(
        (f"{mask_phone(s.phone)}: {s.provider_opt_out_reason}", url)
        for s in held[:MUTED_SHOWN]
        if (url := _subscriber_url(s.pk, s.phone))
    )
    listed = _url("admin:subscribers_subscriber_changelist")
    return Alert(
        WARNING,
        f"{count} number(s) opted out at AWS but opted in here — review. AWS refuses every "
        "message to them; consent was not changed. Ask the person to text START to the "
        "number (AWS then takes it off its list), or opt them out here; the 30-day rule "
        "may hold a second opt-in at AWS.",
        url=f"{listed}?provider_opt_out_at__isempty=0" if listed else None,
        link_text="All of them",
        links=links,
    )


def _subscriber_url(pk: int | None, phone: str) -> str | None:
    """The subscriber's page, or the number's messages when it has no subscriber."""
    if pk is not None:
        try:
            return reverse("admin:subscribers_subscriber_change", args=[pk])
        except NoReverseMatch:
            return None
    url = _url("admin:messaging_message_changelist")
    return f"{url}?{urlencode({'q': phone})}" if url else None


def _ago(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes} minutes" if minutes < 120 else f"{minutes // 60} hours"


@check(sending=True)
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


@check(sending=True)
def daily_broadcast_late() -> Alert | None:
    # Late by messaging.broadcasts.due's rule (DAILY_LATE_BANNER_MINUTES): before the
    # alarm, while there is time to act.
    seen = monitoring.status()
    now = timezone.now()
    if seen is None or not seen.daily.overdue(now):
        return None
    due = seen.daily
    late = due.late_by(now)
    assert due.due_at is not None and late is not None
    return Alert(
        ERROR,
        f"Today's broadcast ({timezones.shown_date(due.day)}) has not started: it was due at "
        f"{timezones.shown(due.due_at)}, {_ago(late)} ago. Check beat and the workers, or "
        "start it with manage.py send_daily (it never sends twice).",
        _url("admin:messaging_broadcast_changelist"),
        "Broadcasts",
    )
