"""The cost report: spend over a range of days, charted, month by month per provider.

Days are UTC days, like the budget's month; the range's last day is included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from messaging.reports import figures, rollups
from messaging.reports.charts import Series, bar_chart, money
from messaging.reports.dashboard import billed_url
from messaging.reports.rollups import month_start, next_month
from smsbot import timezones

# Up to this many days the chart has a bar per day; longer ranges a bar per month.
DAILY_BARS_UP_TO = 62
# The chart is drawn this wide (the page shows it at this size on a laptop).
CHART_WIDTH = 1000


@dataclass(frozen=True)
class Preset:
    label: str
    start: date
    last: date  # included


def presets(today: date) -> list[Preset]:
    """The ranges operators ask for most, ending today or at a month's end."""
    this_month = month_start(today)
    last_month = month_start(this_month - timedelta(days=1))
    first = figures.first_message_day() or today
    return [
        Preset("This month", this_month, today),
        Preset("Last month", last_month, this_month - timedelta(days=1)),
        Preset("Last 3 months", month_start(last_month - timedelta(days=32)), today),
        Preset("This year", today.replace(month=1, day=1), today),
        Preset("All time", min(first, today), today),
    ]


def default_range(today: date) -> tuple[date, date]:
    """This month so far."""
    return month_start(today), today


@dataclass(frozen=True)
class Comparison:
    """Estimate against the price providers reported, over the messages that have one."""

    priced: int
    messages: int
    estimated: Decimal
    actual: Decimal

    @property
    def difference(self) -> Decimal:
        return self.actual - self.estimated

    @property
    def percent(self) -> str:
        """The difference as a share of the estimate, signed ("+2.5%", "−6.6%")."""
        if not self.estimated:
            return ""
        share = self.difference / self.estimated * 100
        return f"{'−' if share < 0 else '+'}{abs(share):.1f}%"


def build(start: date, last: date) -> dict[str, Any]:
    """The report for UTC days start … last (both included)."""
    end = last + timedelta(days=1)
    facts = figures.load_facts(start, end)
    rows = figures.cost_rows(facts)
    total = figures.cost_total(facts, month_start(start))
    return {
        "start": start,
        "last": last,
        "rows": rows,
        "total": total,
        "comparison": Comparison(
            total.priced, total.messages, total.estimated_priced, total.actual
        ),
        "chart": chart(facts, start, end),
    }


def chart(facts: list[figures.Fact], start: date, end: date) -> str:
    """Spend per day (or per month over long ranges), one bar per provider."""
    by_day = (end - start).days <= DAILY_BARS_UP_TO
    if by_day:
        periods = figures.days_between(start, end)
        labels = [timezones.shown_day(d) for d in periods]

        def period_of(day: date) -> date:
            return day

        def period_end(period: date) -> date:
            return period + timedelta(days=1)
    else:
        periods = months_between(start, end)
        labels = [timezones.shown_month(m) for m in periods]
        period_of = month_start

        def period_end(period: date) -> date:
            return min(next_month(period), end)

    spend = figures.spend_by_provider(facts, periods, period_of)
    if not spend:
        # An empty chart still shows its axes and says there is nothing.
        spend = {"": [rollups.ZERO] * len(periods)}
    series = [
        Series(
            figures.provider_label(provider) or "Spend",
            values,
            [
                billed_url(max(p, start), period_end(p), provider__exact=provider or None)
                for p in periods
            ],
        )
        for provider, values in spend.items()
    ]
    title = "Spend per day (USD)" if by_day else "Spend per month (USD)"
    return bar_chart(title, labels, series, fmt=money, width=CHART_WIDTH)


def months_between(start: date, end: date) -> list[date]:
    months, month = [], month_start(start)
    while month < end:
        months.append(month)
        month = next_month(month)
    return months
