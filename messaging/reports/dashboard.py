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

from messaging import outcomes
from messaging.broadcasts import daily, due, schedule
from messaging.models import BILLED_STATUSES, Broadcast
from messaging.reports import alerts, attribution, figures, rollups, skips
from messaging.reports.charts import Series, bar_chart, integer, line_chart, money
from messaging.reports.rollups import day_start, month_start
from smsbot import timezones

CHART_DAYS = 30
# How often the dashboard asks for fresh figures while a broadcast moves, and while
# today's daily send has yet to start (milliseconds; broadcast_live.js reads them).
LIVE_POLL_MS = 2000
WAITING_POLL_MS = 30000
FAILURE_DAYS = 7
CONTENT_DAYS = 7
ADHOC_DAYS = 7
TOP_NUMBERS = 5
# (label, column in figures.consent_per_day rows, consent status)
CONSENT_SERIES = (("Opt-ins", 1, "opted_in"), ("Opt-outs", 2, "opted_out"))


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
    facts = figures.load_facts(min(first, chart_start), tomorrow, covered=covered)
    labels = [timezones.shown_day(d) for d in figures.days_between(chart_start, tomorrow)]
    consent = figures.consent_per_day(chart_start, tomorrow)
    failures_start = today - timedelta(days=FAILURE_DAYS - 1)
    top, top_as_of = figures.top_numbers(today, limit=TOP_NUMBERS)
    # Today and the next days: the days the missing-content alert checks.
    upcoming = [
        content_card(d) for d in figures.upcoming_content(daily.local_today(), CONTENT_DAYS)
    ]
    return {
        "alerts": alerts.active(),
        "today": today,
        "daily": daily_send(daily.local_today(), upcoming[0]),
        "upcoming": upcoming,
        "adhoc": broadcast_cards(
            figures.adhoc_broadcasts(timezone.now() - timedelta(days=ADHOC_DAYS))
        ),
        "adhoc_days": ADHOC_DAYS,
        "subscribers": subscribers(chart_start, tomorrow, labels),
        "spend": figures.month_to_date_spend(facts, today),
        "spend_url": billed_url(first),
        "success": [_success(figures.delivery_success(facts, today, d)) for d in (7, 30)],
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
            for row in figures.spend_by(facts, ("provider", "channel"), first)
        ],
        "top_numbers": [(row, messages_url(q=row.phone, created_at__gte=first)) for row in top],
        "top_as_of": top_as_of,
        "failures": [
            (
                row,
                messages_url(
                    error_code=row.code or "none",
                    outcome=outcomes.Bucket.FAILED,
                    created_at__gte=failures_start,
                ),
            )
            for row in figures.failures_by_error_code(facts, failures_start)
        ],
        "failure_days": FAILURE_DAYS,
        "chart_days": CHART_DAYS,
        "rollups_as_of": covered.refreshed,
        "ops_timezone": settings.OPS_TIMEZONE,
        "cost_report_url": admin_list_url("admin:messaging_message_costs"),
        "live_url": admin_list_url("admin:messaging_broadcast_progress"),
        "live_poll_ms": LIVE_POLL_MS,
        "waiting_poll_ms": WAITING_POLL_MS,
    }


def _spend_chart(facts: list[figures.Fact], start: date, end: date, labels: list[str]) -> str:
    per_day = figures.spend_per_day(facts, start, end)
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


def _success(rate: figures.SuccessRate) -> dict[str, Any]:
    def link(bucket: str, value: int) -> Linked:
        return Linked(
            outcomes.LABELS[bucket],
            value,
            messages_url(direction__exact="outbound", outcome=bucket, created_at__gte=rate.start),
        )

    return {
        "rate": rate,
        "delivered": link(outcomes.Bucket.DELIVERED, rate.delivered),
        "failed": link(outcomes.Bucket.FAILED, rate.failed),
        "awaiting": link(outcomes.Bucket.SENT, rate.awaiting),
        "unknown": link(outcomes.Bucket.UNKNOWN, rate.unknown),
    }


# --- Subscribers --------------------------------------------------------------------------
def subscribers(start: date, end: date, labels: list[str]) -> dict[str, Any]:
    trends = figures.active_subscribers(start, end)
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
    """Today's daily send: when, with what content (its content_card), how far it got.

    Whether it is late is messaging.broadcasts.due's answer, as on every other screen.
    """
    now = now or timezone.now()
    next_run = schedule.next_run(now)
    today = due.today(now)
    state = today.state(now)
    # The time in the schedule's own zone, the one beat fires it in.
    zone = ZoneInfo(schedule.timezone_name())
    broadcast = figures.daily_broadcast(day)
    return {
        "day": day,
        "enabled": next_run is not None,
        # The Daily schedule screen, not the periodic task's raw form.
        "schedule_url": _change_url("admin:messaging_dailyscheduletask_changelist"),
        "next": _when(next_run, zone, now) if next_run else None,
        "state": str(state),
        "runs_today": state == due.State.UPCOMING,
        # When today's begins (its first wave in local-time mode), or began to be due.
        "due": _when(today.due_at, zone, now) if today.due_at else None,
        "content": content,
        "broadcast": broadcast_cards([broadcast])[0] if broadcast else None,
        # Late or missed: its time passed the late grace and it has not begun.
        "missed": broadcast is None and today.overdue(now),
        "skipped": day.isoformat() in daily.skipped_days() or today.not_expected == due.NO_CONTENT,
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


def content_card(content: figures.DayContent) -> dict[str, Any]:
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


def broadcast_cards(broadcasts: list[Broadcast]) -> list[dict[str, Any]]:
    """Each broadcast's progress (figures.broadcast_live, as its own page shows it) with
    every outcome linked to its messages in the message list."""
    detail = figures.broadcast_figures_of(broadcasts)
    shown = {pk: d.counts for pk, d in detail.items()}
    caused = attribution.caused_of(broadcasts, shown)
    skipped = skips.after(broadcasts, shown)
    return [
        {
            **figures.broadcast_live(b, shown[b.pk], detail[b.pk]),
            "broadcast": b,
            "skips": skipped[b.pk],
            "url": _change_url("admin:messaging_broadcast_change", b.pk),
            "figures": [
                Linked(label, shown[b.pk][bucket], outcome_url(b.pk, bucket), bucket)
                for bucket, label in outcomes.BUCKETS
            ],
            "by_channel": [
                Linked(label, n, messages_url(broadcast__id__exact=b.pk, **where), field)
                for field, label, n, where in detail[b.pk].channels.rows()
            ],
            "caused": caused[b.pk],
        }
        for b in broadcasts
    ]


def outcome_url(broadcast_id: int, bucket: str | None = None) -> str | None:
    """A broadcast's messages in the message list, in one outcome bucket."""
    return messages_url(broadcast__id__exact=broadcast_id, outcome=bucket)


def daily_started() -> bool:
    """Whether today's daily send has begun (the dashboard reloads when it does)."""
    return figures.daily_broadcast(daily.local_today()) is not None
