"""The admin home as an operations dashboard: is everything all right today?

Figures come from messaging.reports.figures; this module only arranges them and
builds, for each one, the link to the filtered admin list it summarises. Days
and months are UTC ones, like the budget's; the daily send is shown in its own
timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.timesince import timeuntil

from messaging.broadcasts import daily
from messaging.models import BILLED_STATUSES, MessageStatus
from messaging.reports import alerts, rollups
from messaging.reports import figures as reports
from messaging.reports.charts import Series, bar_chart, integer, line_chart, money
from messaging.reports.rollups import day_start, month_start
from smsbot import timezones

CHART_DAYS = 30
FAILURE_DAYS = 7
CONTENT_DAYS = 7
ADHOC_DAYS = 7
TOP_NUMBERS = 5
# How often the page asks for fresh figures while a broadcast moves, and while
# today's daily send has yet to start (milliseconds).
LIVE_POLL_MS = 2000
WAITING_POLL_MS = 30000
# (label, column in reports.consent_per_day rows, consent status)
CONSENT_SERIES = (("Opt-ins", 1, "opted_in"), ("Opt-outs", 2, "opted_out"))
# Broadcast figures the page shows and the live view updates: key, label, statuses.
BROADCAST_FIGURES = (
    ("messages", "Messages", None),
    ("sent", "Sent", ("sent", *reports.SUCCESS_STATUSES)),
    ("delivered", "Delivered", reports.SUCCESS_STATUSES),
    ("failed", "Failed", reports.FAILURE_STATUSES),
    ("skipped", "Skipped", ("skipped",)),
    ("queued", "Queued", ("queued",)),
)


def admin_list_url(viewname: str, **params: object) -> str | None:
    """The admin list at viewname filtered by params; None where it is not registered."""
    try:
        base = reverse(viewname)
    except NoReverseMatch:
        return None
    query = {k: _param(v) for k, v in params.items() if v is not None}
    return f"{base}?{urlencode(query)}" if query else base


def _param(value: object) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, date):
        # A UTC day boundary, the reports' day.
        return day_start(value).isoformat()
    return str(value)


def messages_url(**params: object) -> str | None:
    return admin_list_url("admin:messaging_message_changelist", **params)


def billed_url(start: date, end: date | None = None, **params: object) -> str | None:
    """Billed outbound messages created on UTC days [start, end)."""
    return messages_url(
        direction__exact="outbound",
        status__in=BILLED_STATUSES,
        created_at__gte=start,
        created_at__lt=end,
        **params,
    )


def consent_url(status: str, start: date, end: date) -> str | None:
    return admin_list_url(
        "admin:subscribers_consentevent_changelist",
        to_status__exact=status,
        created_at__gte=start,
        created_at__lt=end,
    )


def _change_url(viewname: str, *args: object) -> str | None:
    try:
        return reverse(viewname, args=args)
    except NoReverseMatch:
        return None


@dataclass(frozen=True)
class Linked:
    label: str
    value: Any
    url: str | None
    key: str = ""  # names the figure for the page's live refresh


def build() -> dict[str, Any]:
    """Everything the dashboard template shows, for a user allowed to view messages."""
    today = rollups.today()
    tomorrow = today + timedelta(days=1)
    chart_start = today - timedelta(days=CHART_DAYS - 1)
    first = month_start(today)
    covered = rollups.coverage()
    facts = reports.load_facts(min(first, chart_start), tomorrow, covered=covered)
    labels = [timezones.shown_day(d) for d in reports.days_between(chart_start, tomorrow)]
    consent = reports.consent_per_day(chart_start, tomorrow)
    failures_start = today - timedelta(days=FAILURE_DAYS - 1)
    top, top_as_of = reports.top_numbers(today, limit=TOP_NUMBERS)
    # Today and the next days: the days the missing-content alert checks.
    upcoming = [
        content_card(d) for d in reports.upcoming_content(daily.local_today(), CONTENT_DAYS)
    ]
    return {
        "alerts": alerts.active(),
        "today": today,
        "daily": daily_send(daily.local_today(), upcoming[0]),
        "upcoming": upcoming,
        "adhoc": [
            broadcast_card(p)
            for p in reports.adhoc_broadcasts(timezone.now() - timedelta(days=ADHOC_DAYS))
        ],
        "adhoc_days": ADHOC_DAYS,
        "subscribers": subscribers(chart_start, tomorrow, labels),
        "spend": reports.month_to_date_spend(facts, today),
        "spend_url": billed_url(first),
        "success": [_success(reports.delivery_success(facts, today, d)) for d in (7, 30)],
        "spend_chart": _spend_chart(facts, chart_start, tomorrow, labels),
        "consent_chart": line_chart(
            f"Opt-ins and opt-outs per day, last {CHART_DAYS} days",
            labels,
            [
                Series(
                    name,
                    [row[column] for row in consent],
                    [consent_url(status, row[0], row[0] + timedelta(days=1)) for row in consent],
                )
                for name, column, status in CONSENT_SERIES
            ],
            fmt=integer,
        ),
        "consent_totals": [
            Linked(name, sum(r[col] for r in consent), consent_url(status, chart_start, tomorrow))
            for name, col, status in CONSENT_SERIES
        ],
        "by_provider": [
            (row, billed_url(first, provider__exact=row.key[0], channel__exact=row.key[1]))
            for row in reports.spend_by(facts, ("provider", "channel"), first)
        ],
        "top_numbers": [(row, messages_url(q=row.phone, created_at__gte=first)) for row in top],
        "top_as_of": top_as_of,
        "failures": [
            (
                row,
                messages_url(
                    error_code=row.code or "none",
                    status__in=reports.FAILURE_STATUSES,
                    created_at__gte=failures_start,
                ),
            )
            for row in reports.failures_by_error_code(facts, failures_start)
        ],
        "failure_days": FAILURE_DAYS,
        "chart_days": CHART_DAYS,
        "rollups_as_of": covered.refreshed,
        "ops_timezone": settings.OPS_TIMEZONE,
        "cost_report_url": admin_list_url("admin:messaging_message_costs"),
        "live_url": admin_list_url("admin:messaging_message_live"),
        "live_poll_ms": LIVE_POLL_MS,
        "waiting_poll_ms": WAITING_POLL_MS,
    }


def _spend_chart(facts: list[reports.Fact], start: date, end: date, labels: list[str]) -> str:
    per_day = reports.spend_per_day(facts, start, end)
    return bar_chart(
        f"Spend per day, last {CHART_DAYS} days (USD)",
        labels,
        [
            Series(
                "Spend",
                [amount for _, amount in per_day],
                [billed_url(day, day + timedelta(days=1)) for day, _ in per_day],
            )
        ],
        fmt=money,
    )


def _success(rate: reports.SuccessRate) -> dict[str, Any]:
    def link(label: str, value: int, statuses: tuple[str, ...]) -> Linked:
        return Linked(
            label,
            value,
            messages_url(
                direction__exact="outbound", status__in=statuses, created_at__gte=rate.start
            ),
        )

    return {
        "rate": rate,
        "delivered": link("Delivered", rate.delivered, reports.SUCCESS_STATUSES),
        "failed": link("Failed", rate.failed, reports.FAILURE_STATUSES),
        "awaiting": link("Awaiting a delivery report", rate.awaiting, (MessageStatus.SENT,)),
    }


# --- Subscribers --------------------------------------------------------------------------
def subscribers(start: date, end: date, labels: list[str]) -> dict[str, Any]:
    trends = reports.active_subscribers(start, end)
    subscribers_url = "admin:subscribers_subscriber_changelist"
    return {
        "channels": [
            Linked(
                t.label,
                t.now,
                admin_list_url(
                    subscribers_url, consent_status__exact="opted_in", channel__exact=t.channel
                ),
            )
            for t in trends
        ],
        "total": Linked(
            "Opted in",
            sum(t.now for t in trends),
            admin_list_url(subscribers_url, consent_status__exact="opted_in"),
        ),
        "chart": line_chart(
            f"Opted-in subscribers at the end of each day, last {CHART_DAYS} days",
            labels,
            [Series(t.label, [n for _, n in t.per_day]) for t in trends],
            fmt=integer,
        ),
    }


# --- The daily send and its content ----------------------------------------------------------
def daily_send(day: date, content: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Today's daily send: when, with what content (its content_card), how far it got."""
    now = now or timezone.now()
    task = reports.daily_task()
    next_run = reports.next_run(task, now) if task is not None else None
    # The time in the schedule's own zone, the one beat fires it in.
    zone = (
        task.crontab.timezone if task and task.crontab else ZoneInfo(settings.DAILY_SEND_TIMEZONE)
    )
    runs_today = next_run is not None and next_run.astimezone(zone).date() == day
    progress = reports.daily_broadcast(day)
    return {
        "day": day,
        "enabled": next_run is not None,
        # The Daily schedule screen, not the periodic task's raw form.
        "schedule_url": _change_url("admin:messaging_dailyscheduletask_changelist"),
        "next": _when(next_run, zone, now) if next_run else None,
        "runs_today": runs_today,
        "content": content,
        "broadcast": broadcast_card(progress) if progress else None,
        # Today's time passed and no broadcast was made: skipped for lack of content, or
        # beat did not fire.
        "missed": progress is None and next_run is not None and not runs_today,
        "skipped": day.isoformat() in daily.skipped_days(),
    }


def _when(moment: datetime, zone: ZoneInfo, now: datetime) -> dict[str, str]:
    """The moment in zone, zone named ("Sun 29 Nov 2026, 10:00 CST"; "10:00 CST" on its day),
    and how long until then."""
    local = moment.astimezone(zone)
    return {
        "at": timezones.shown(local, zone),
        "time": formats.date_format(local, "TIME_FORMAT"),
        "until": timeuntil(moment, now),
    }


def content_card(content: reports.DayContent) -> dict[str, Any]:
    existing = content.content
    return {
        "day": content.day,
        "text": existing.text if existing else "",
        "fallback": content.fallback,
        "missing": content.missing,
        "url": _change_url("admin:messaging_dailycontent_change", existing.pk)
        if existing
        else admin_list_url("admin:messaging_dailycontent_add", date=content.day.isoformat()),
    }


def broadcast_card(progress: reports.BroadcastProgress) -> dict[str, Any]:
    """A broadcast's progress with its figures linked to its messages (see live_figures)."""
    pk = progress.broadcast.pk
    figures = live_figures(progress)
    return {
        **figures,
        "broadcast": progress.broadcast,
        "url": _change_url("admin:messaging_broadcast_change", pk),
        "figures": [
            Linked(label, figures["figures"][key], messages_url(broadcast__id__exact=pk,
                                                                status__in=statuses), key)
            for key, label, statuses in BROADCAST_FIGURES
        ],
    }  # fmt: skip


def live_figures(progress: reports.BroadcastProgress) -> dict[str, Any]:
    """What the page refreshes while a broadcast sends (the JSON the dashboard polls)."""
    values = {
        "messages": sum(progress.by_status.values()),
        "sent": progress.sent,
        "delivered": progress.delivered,
        "failed": progress.failed,
        "skipped": progress.skipped,
        "queued": progress.queued,
    }
    return {
        "id": progress.broadcast.pk,
        "state": progress.broadcast.state,
        "state_label": progress.broadcast.get_state_display(),
        "percent": round(progress.percent_done),
        "summary": f"{progress.sent} sent of {progress.total} ({progress.percent_done:.0f}% done)",
        "figures": {key: values[key] for key, _, _ in BROADCAST_FIGURES},
        "live": progress.live,
    }


def live(broadcast_ids: list[int]) -> dict[str, Any]:
    """The live figures of these broadcasts and whether today's daily send has started."""
    day = daily.local_today()
    shown = [p for p in (reports.broadcast_progress(pk) for pk in broadcast_ids) if p]
    return {
        "broadcasts": [live_figures(p) for p in shown],
        "daily_started": reports.daily_broadcast(day) is not None,
    }
