"""Who a broadcast skips and why, as every screen shows it: before (the preview, the
daily schedule, send_daily --dry-run) and after (the broadcast page, the dashboard).

Before, the counts come from the audience's split (messaging.broadcasts.audience);
after, from what the fan-out left out (Broadcast.skips) plus the messages skipped
while sending, by their recorded reason: one grouped query for any number of
broadcasts. Each row links to the subscribers it counts where the subscriber list
has the filter.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse

from messaging.models import Broadcast, Message, MessageStatus
from messaging.outcomes import Bucket, Outcomes, clock
from messaging.skips import SkipReason

# The subscriber list's filters for the reasons it can show.
_FILTERS: dict[str, dict[str, object]] = {
    SkipReason.OPTED_OUT: {"consent_status__in": "opted_out"},
    SkipReason.PENDING: {"consent_status__in": "pending"},
    SkipReason.UNDELIVERABLE: {"undeliverable__exact": 1},
    SkipReason.PAUSED: {"paused": "yes"},
}


def subscribers_url(reason: str, channel: str = "") -> str | None:
    filters = _FILTERS.get(reason)
    if filters is None:
        return None
    if channel:
        filters = {**filters, "channel__exact": channel}
    return f"{reverse('admin:subscribers_subscriber_changelist')}?{urlencode(filters)}"


def rows(
    counts: Iterable[tuple[str, int, datetime | None]], channel: str = ""
) -> list[dict[str, Any]]:
    """(reason, count, until) → what a screen shows, in SkipReason's order."""
    found = {reason: (n, until) for reason, n, until in counts if n}
    return [
        {
            "reason": reason.value,
            "label": reason.label,
            "count": found[reason][0],
            "until": clock(found[reason][1]) if found[reason][1] else "",
            "url": subscribers_url(reason, channel),
        }
        for reason in SkipReason
        if reason in found
    ]


def preview_rows(skips: Sequence[Any], channel: str = "") -> list[dict[str, Any]]:
    """A preview's skips (audience.Skip) as rows."""
    return rows(((s.reason, s.count, s.until) for s in skips), channel)


def after(
    broadcasts: Sequence[Broadcast], counts: Mapping[int, Outcomes]
) -> dict[int, list[dict[str, Any]]]:
    """Per broadcast, who it skipped by reason: left out at the start, and skipped since.
    counts: their outcomes as the screen shows them; only those with skipped messages
    have theirs read, so a broadcast that skipped none costs no query."""
    skipped: dict[int, dict[str, int]] = {b.pk: dict(b.skips or {}) for b in broadcasts}
    with_skipped = [b.pk for b in broadcasts if counts[b.pk][Bucket.SKIPPED]]
    found = (
        Message.objects.filter(broadcast_id__in=with_skipped, status=MessageStatus.SKIPPED)
        .order_by()
        .values_list("broadcast_id", "skip_reason")
        .annotate(n=Count("id"))
        if with_skipped
        else []
    )
    for broadcast_id, reason, n in found:
        per = skipped[broadcast_id]
        per[reason] = per.get(reason, 0) + n
    return {
        b.pk: rows(((r, n, None) for r, n in skipped[b.pk].items()), b.channel) for b in broadcasts
    }
