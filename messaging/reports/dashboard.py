"""The admin home as an operations dashboard: figures, charts, and links behind them.

Figures come from messaging.reports.figures; this module only arranges them and
builds, for each one, the link to the filtered admin list it summarises.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from messaging.models import BILLED_STATUSES
from messaging.reports import alerts
from messaging.reports import figures as reports
from messaging.reports.charts import Series, bar_chart, integer, line_chart, money
from messaging.reports.rollups import day_start, last_refreshed, month_start

CHART_DAYS = 30
FAILURE_DAYS = 7
# (label, column in reports.consent_per_day rows, consent status)
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
        # The same form the admin's own date filter uses, so its choice shows as selected.
        return str(day_start(value))
    return str(value)


def messages_url(**params: object) -> str | None:
    return admin_list_url("admin:messaging_message_changelist", **params)


def billed_url(start: date, end: date | None = None, **params: object) -> str | None:
    """Billed outbound messages created on days [start, end)."""
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


@dataclass(frozen=True)
class Linked:
    label: str
    value: Any
    url: str | None


def build() -> dict[str, Any]:
    """Everything the dashboard template shows, for a user allowed to view messages."""
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    chart_start = today - timedelta(days=CHART_DAYS - 1)
    first = month_start(today)
    facts = reports.load_facts(min(first, chart_start), tomorrow, today)

    spend = reports.month_to_date_spend(facts, today)
    success = [reports.delivery_success(facts, today, days) for days in (7, 30)]
    failures_start = today - timedelta(days=FAILURE_DAYS - 1)
    top, top_as_of = reports.top_numbers(today)
    labels = [f"{d:%b %d}" for d in reports.days_between(chart_start, tomorrow)]

    per_day = reports.spend_per_day(facts, chart_start, tomorrow)
    spend_chart = bar_chart(
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
    consent = reports.consent_per_day(chart_start, tomorrow)
    consent_chart = line_chart(
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
    )
    return {
        "alerts": alerts.active(),
        "today": today,
        "broadcast": _broadcast(today),
        "spend": spend,
        "spend_url": billed_url(first),
        "success": [_success(rate) for rate in success],
        "spend_chart": spend_chart,
        "consent_chart": consent_chart,
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
        "rollups_as_of": last_refreshed(),
        "cost_report_url": admin_list_url("admin:messaging_message_costs"),
    }


def _success(rate: reports.SuccessRate) -> dict[str, Any]:
    return {
        "rate": rate,
        "delivered": Linked(
            "Delivered", rate.delivered, messages_url(
                direction__exact="outbound", status__in=reports.SUCCESS_STATUSES,
                created_at__gte=rate.start,
            )
        ),
        "failed": Linked(
            "Failed", rate.failed, messages_url(
                direction__exact="outbound", status__in=reports.FAILURE_STATUSES,
                created_at__gte=rate.start,
            )
        ),
        "awaiting": Linked(
            "Awaiting a delivery report", rate.awaiting, messages_url(
                direction__exact="outbound", status__exact="sent", created_at__gte=rate.start,
            )
        ),
    }  # fmt: skip


def _broadcast(today: date) -> dict[str, Any] | None:
    progress = reports.todays_broadcast(today)
    if progress is None:
        return None
    pk = progress.broadcast.pk

    def link(label: str, value: int, statuses: tuple[str, ...] | None) -> Linked:
        return Linked(label, value, messages_url(broadcast__id__exact=pk, status__in=statuses))

    return {
        "progress": progress,
        "url": _change_url("admin:messaging_broadcast_change", pk),
        "figures": [
            link("Messages", sum(progress.by_status.values()), None),
            link("Sent", progress.sent, ("sent", *reports.SUCCESS_STATUSES)),
            link("Failed", progress.failed, reports.FAILURE_STATUSES),
            link("Skipped", progress.skipped, ("skipped",)),
            link("Queued", progress.queued, ("queued",)),
        ],
    }


def _change_url(viewname: str, pk: int) -> str | None:
    try:
        return reverse(viewname, args=[pk])
    except NoReverseMatch:
        return None
