"""What broadcasts caused, beside what became of their messages, and the daily
content report that ranks the daily texts by it.

Both read only rollups: the replies, STOPs and PAUSEs counted as inbounds
arrive (BroadcastAttribution, kept by messaging.inbound.attribution) and the
outcome counts every screen shows (messaging.broadcasts.progress.shown: stored
on the Broadcast once it has settled). A year of daily content reads one row
per day, however many messages it had.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.conf import settings

from messaging.broadcasts import progress, schedule
from messaging.models import Broadcast, BroadcastAttribution
from messaging.outcomes import Bucket, Outcomes
from messaging.reports.charts import Series, bar_chart
from smsbot import timezones


def percent(part: int, whole: int) -> float:
    return round(part / whole * 100, 1) if whole else 0.0


@dataclass(frozen=True)
class Caused:
    """A broadcast's messages that went out, and the inbounds they were followed by."""

    sent: int  # handed to a provider: delivered, failed or awaiting a report
    delivered: int
    failed: int
    replies: int = 0
    stops: int = 0
    pauses: int = 0

    @property
    def delivered_rate(self) -> float:
        return percent(self.delivered, self.sent)

    @property
    def failed_rate(self) -> float:
        return percent(self.failed, self.sent)

    @property
    def reply_rate(self) -> float:
        return percent(self.replies, self.sent)

    @property
    def stop_rate(self) -> float:
        return percent(self.stops, self.sent)

    @property
    def pause_rate(self) -> float:
        return percent(self.pauses, self.sent)

    def figures(self) -> list[tuple[str, str, str, str]]:
        """(key, label, count, "(rate%)") in the order screens show them: what the pages
        render, and (as live_text) what broadcast_live.js writes in while they are open."""
        rows = [
            ("delivered", "Delivered", self.delivered, self.delivered_rate),
            ("failed", "Failed", self.failed, self.failed_rate),
            ("replies", "Replies", self.replies, self.reply_rate),
            ("stops", "STOP", self.stops, self.stop_rate),
            ("pauses", "PAUSE", self.pauses, self.pause_rate),
        ]
        return [(key, label, str(n), f"({rate}%)") for key, label, n, rate in rows]

    def live_text(self) -> dict[str, str]:
        """figures() by live field (caused-<key>, caused-<key>-rate): the progress view
        serves them among a broadcast's live fields, so a STOP that lands while its page
        or the dashboard is open shows without a reload."""
        text = {"caused-sent": str(self.sent)}
        for key, _, count, rate in self.figures():
            text[f"caused-{key}"], text[f"caused-{key}-rate"] = count, rate
        return text


def caused_of(
    broadcasts: Sequence[Broadcast], shown: dict[int, Outcomes] | None = None
) -> dict[int, Caused]:
    """Each broadcast's Caused: one query on the rollup, none for broadcasts loaded with
    theirs (select_related("attribution")), plus the outcomes if not given."""
    shown = shown if shown is not None else progress.shown(broadcasts)
    rows = {b.pk: _loaded(b) for b in broadcasts if Broadcast.attribution.is_cached(b)}
    unread = [b.pk for b in broadcasts if b.pk not in rows]
    if unread:
        found_rows = BroadcastAttribution.objects.filter(broadcast_id__in=unread)
        rows.update((a.broadcast_id, a) for a in found_rows)
    found = {}
    for b in broadcasts:
        counts, row = shown[b.pk], rows.get(b.pk)
        found[b.pk] = Caused(
            sent=counts[Bucket.SENT] + counts[Bucket.DELIVERED] + counts[Bucket.FAILED],
            delivered=counts[Bucket.DELIVERED],
            failed=counts[Bucket.FAILED],
            replies=row.replies if row else 0,
            stops=row.stops if row else 0,
            pauses=row.pauses if row else 0,
        )
    return found


def _loaded(broadcast: Broadcast) -> BroadcastAttribution | None:
    try:
        return broadcast.attribution
    except BroadcastAttribution.DoesNotExist:  # none yet: nothing came back from it
        return None


def window_words() -> str:
    hours = settings.BROADCAST_ATTRIBUTION_HOURS
    return f"within {hours} hour{'s' if hours != 1 else ''} of their message"


# --- the daily content report -----------------------------------------------------

ORDERS = {
    "stops": ("opt-out rate", lambda c: (c.stop_rate, c.stops, c.reply_rate)),
    "replies": ("reply rate", lambda c: (c.reply_rate, c.replies, -c.stop_rate)),
}
DEFAULT_ORDER = "stops"


@dataclass(frozen=True)
class ContentRow:
    day: date
    text: str
    broadcast: Broadcast
    caused: Caused


@dataclass(frozen=True)
class ContentReport:
    start: date
    end: date
    order: str
    rows: list[ContentRow]  # ranked, highest first

    @property
    def order_label(self) -> str:
        return ORDERS[self.order][0]

    def chart(self, limit: int = 20) -> str:
        """Opt-out and reply rates of the top-ranked days, as bars."""
        top = self.rows[:limit]
        labels = [timezones.shown_day(r.day) for r in top]
        return bar_chart(
            f"Daily content by {self.order_label}, {len(top)} highest",
            labels,
            [
                Series("opt-out rate", [r.caused.stop_rate for r in top]),
                Series("reply rate", [r.caused.reply_rate for r in top]),
            ],
            fmt=lambda v: f"{v:g}%",
        )


def daily_broadcasts(start: date, end: date) -> list[Broadcast]:
    """The daily broadcasts of the days start..end (one per day, by its key)."""
    return list(
        Broadcast.objects.filter(
            date__range=(start, end), idempotency_key__startswith=schedule.DAILY_KEY_PREFIX
        ).order_by("date")
    )


def content_report(start: date, end: date, order: str = DEFAULT_ORDER) -> ContentReport:
    """The daily content of start..end ranked by opt-out rate (or reply rate), highest first."""
    order = order if order in ORDERS else DEFAULT_ORDER
    broadcasts = daily_broadcasts(start, end)
    caused = caused_of(broadcasts)
    rows = [ContentRow(b.date, b.text, b, caused[b.pk]) for b in broadcasts]
    rows.sort(key=lambda r: ORDERS[order][1](r.caused), reverse=True)
    return ContentReport(start, end, order, rows)
