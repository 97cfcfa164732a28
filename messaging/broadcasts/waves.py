"""Delivery windows: the minute check of due work — local-time waves and held messages.

Local time. With the schedule's mode "local_time", the content of a local date D
reaches each subscriber at their send time on D (their preferred time, else the
schedule's) on their own clock. One Broadcast per date ("daily:D", the key the
same-moment mode uses, so no date is ever sent both ways) gathers the messages;
a Wave is every (timezone, send time) group whose time on D is one UTC moment.
Nothing is scheduled ahead: beat runs check() at the start of every minute; it
finds the groups that fell due since the broadcast's last look, records their
wave and queues its fan-out. A group that only appears after its moment (a late
opt-in, a preferred time already past) waits for the next date, as a late
opt-in does in same-moment mode; a group whose D is over on its own clock when
the check finally runs (beat stopped for a day) is left out rather than sent
yesterday's text at night. D is finished once it has ended everywhere (D+1
12:00 UTC, midnight at UTC-12).

Quiet hours. A broadcast message claimed inside its recipient's QUIET_HOURS is
held (queued, next_attempt_at = when they end); check() publishes the held
messages whose window has opened.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from messaging import task_names
from messaging.broadcasts import daily, schedule
from messaging.broadcasts.audience import ChannelPrices, audience, costs, prices_by_channel
from messaging.models import (
    Broadcast,
    BroadcastState,
    Message,
    MessageKind,
    MessageStatus,
    SendMode,
    Wave,
)
from smsbot import outbox
from smsbot.celery import BULK_QUEUE
from subscribers import localtime

log = logging.getLogger(__name__)

# A date begins first at UTC+14 and ends last at UTC-12.
EARLIEST_OFFSET = timedelta(hours=14)
LATEST_OFFSET = timedelta(hours=12)


def date_ends(day: date) -> datetime:
    """When day is over everywhere: no group's send time on day can come later."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC) + LATEST_OFFSET


@dataclass(frozen=True)
class Group:
    """Subscribers who share a clock and a send time: timezone "" is the default zone,
    preferred None the schedule's time."""

    timezone: str
    preferred: time | None

    def due(self, day: date, send_time: time) -> datetime:
        return localtime.at(day, self.preferred or send_time, self.timezone)

    def stored(self) -> list[str | None]:
        return [self.timezone, f"{self.preferred:%H:%M}" if self.preferred else None]


def local_times(due_at: datetime, zones: list[str]) -> list[str]:
    """'10:00 Pacific/Honolulu' for each zone of a wave: its moment on their clocks."""
    named = {zone or settings.DAILY_SEND_TIMEZONE for zone in zones}
    return sorted(f"{due_at.astimezone(localtime.zone(z)):%H:%M} {z}" for z in named)


# Group -> recipients per channel
Counts = dict[Group, dict[str, int]]


def audience_groups(channel: str = "") -> Counts:
    """Today's audience by clock and send time, with its channels (one query)."""
    counts: Counts = {}
    rows = (
        audience(channel)
        .values_list("timezone", "preferred_time", "channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    for zone, preferred, ch, n in rows:
        counts.setdefault(Group(zone, preferred), {})[ch] = n
    return counts


@dataclass
class PlannedWave:
    """A wave as the schedule and an audience make it: what a dry run and the page show,
    and what a wave is recorded from."""

    due_at: datetime
    groups: Counts = field(default_factory=dict)

    @property
    def by_channel(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for per_channel in self.groups.values():
            for ch, n in per_channel.items():
                total[ch] = total.get(ch, 0) + n
        return total

    @property
    def recipients(self) -> int:
        return sum(self.by_channel.values())

    def cost(
        self, text: str, *, template: bool, prices: dict[str, ChannelPrices] | None = None
    ) -> Decimal:
        """At the audience's prices: pass prices_by_channel() once for many waves."""
        projected = costs(text, self.by_channel, template=template, prices=prices)
        return sum(projected.values(), Decimal("0"))


def plan(day: date, send_time: time, counts: Counts) -> list[PlannedWave]:
    """The waves of day's broadcast for these groups, earliest first."""
    waves: dict[datetime, PlannedWave] = {}
    for group, per_channel in counts.items():
        due = group.due(day, send_time)
        waves.setdefault(due, PlannedWave(due)).groups[group] = per_channel
    return sorted(waves.values(), key=lambda w: w.due_at)


def members(groups: list[list[str | None]]) -> Q:
    """The subscribers of a wave's stored groups."""
    who = Q(pk__in=[])
    for zone, clock in groups:
        if clock is None:
            who |= Q(timezone=zone, preferred_time__isnull=True)
        else:
            who |= Q(timezone=zone, preferred_time=localtime.parse_clock(clock))
    return who


@dataclass(frozen=True)
class CheckResult:
    waves: int
    released: int


def check(now: datetime | None = None) -> CheckResult:
    """Publish held messages whose quiet hours are over; start the waves now due."""
    now = now or timezone.now()
    released = release_held(now)
    current = schedule.current()
    open_days = set(
        Broadcast.objects.filter(
            mode=SendMode.LOCAL_TIME, state=BroadcastState.SENDING, fanout_done=False
        ).values_list("date", flat=True)
    )
    if not open_days and not (current.enabled and current.local_time):
        return CheckResult(0, released)  # same moment: the daily task does it all
    today = now.astimezone(UTC).date()
    counts = audience_groups()
    # Open dates (one past its end is closed here), and the dates that are today
    # somewhere, if some of their groups are due.
    days = open_days | {
        day
        for day in (today - timedelta(days=1), today, today + timedelta(days=1))
        if current.enabled and current.local_time and due(day, now, current, counts)
    }
    waves = sum(advance(day, now, current, counts) for day in sorted(days))
    return CheckResult(waves, released)


def advance(day: date, now: datetime, current: schedule.DailySchedule, counts: Counts) -> int:
    """Record and queue the waves of day's broadcast due by now; returns how many."""
    broadcast = Broadcast.objects.filter(idempotency_key=daily.key_for(day)).first()
    if broadcast is None:
        if not (current.enabled and current.local_time and due(day, now, current, counts)):
            return 0
        broadcast = daily.start(day, SendMode.LOCAL_TIME).broadcast
        if broadcast is None:
            return 0  # no content for the day
    if broadcast.mode != SendMode.LOCAL_TIME:
        return 0
    with transaction.atomic():
        # Writing first takes the row lock: two checks take turns, the second sees the first's.
        Broadcast.objects.filter(pk=broadcast.pk).update(cursor=F("cursor"))
        broadcast.refresh_from_db()
        if broadcast.state != BroadcastState.SENDING or broadcast.fanout_done:
            return 0
        waves = due(day, now, current, counts, since=broadcast.waves_checked_until)
        template = bool(broadcast.whatsapp_content_sid)
        prices = prices_by_channel() if waves else {}
        # Under the lock and after the last look: no wave here exists yet.
        Wave.objects.bulk_create(
            Wave(
                broadcast=broadcast,
                due_at=wave.due_at,
                groups=[g.stored() for g in wave.groups],
                recipients=wave.recipients,
                projected_cost=wave.cost(broadcast.text, template=template, prices=prices),
            )
            for wave in waves
        )
        broadcast.waves_checked_until = now
        broadcast.save(update_fields=["waves_checked_until"])
        if waves or now >= date_ends(day):
            # The fan-out makes the waves' messages, or closes a finished date.
            outbox.enqueue(task_names.FAN_OUT, broadcast.pk, queue=BULK_QUEUE)
    for wave in waves:
        log.info("daily %s: wave of %s due (%d recipients)", day, wave.due_at, wave.recipients)
    return len(waves)


def due(
    day: date,
    now: datetime,
    current: schedule.DailySchedule,
    counts: Counts,
    since: datetime | None = None,
) -> list[PlannedWave]:
    """The waves of day that fell due in (since, now], each with only the groups for
    which it is still day on their own clock."""
    found = []
    for wave in plan(day, current.send_time, counts):
        if (since is not None and wave.due_at <= since) or wave.due_at > now:
            continue
        late = [g for g in wave.groups if localtime.local_date(now, g.timezone) != day]
        for group in late:
            del wave.groups[group]
        if late:
            log.warning("daily %s: wave of %s came after the day ended: %s", day, wave.due_at, late)
        if wave.groups:
            found.append(wave)
    return found


def finished(broadcast: Broadcast) -> bool:
    """A local-time broadcast has no wave left to come once its date has ended everywhere
    (a group the check had not reached by then was late: its date was over)."""
    return broadcast.date is not None and timezone.now() >= date_ends(broadcast.date)


def wave_recipients(broadcast: Broadcast, wave: Wave) -> QuerySet:
    """Who the wave's fan-out gives a message: the audience at its moment, in its groups."""
    return audience(broadcast.channel, wave.due_at).filter(members(wave.groups))


@dataclass(frozen=True)
class WaveRow:
    """One wave as an operator reads it (the broadcast's page, send_daily --dry-run)."""

    due_at: datetime
    local_times: list[str]
    recipients: int
    projected_cost: Decimal
    status: str  # "started", "due" (at the next check) or "upcoming"


def wave_rows(
    day: date, text: str, *, template: bool, broadcast: Broadcast | None
) -> list[WaveRow]:
    """The day's waves: those the broadcast has started, then those still to come for
    today's audience (with the schedule as it is now)."""
    rows = []
    checked = None
    if broadcast is not None:
        checked = broadcast.waves_checked_until
        for wave in broadcast.waves.all():
            zones = [zone for zone, _ in wave.groups]
            row = WaveRow(
                wave.due_at,
                local_times(wave.due_at, zones),
                wave.recipients,
                wave.projected_cost,
                "started",
            )
            rows.append(row)
    now = timezone.now()
    prices = prices_by_channel()
    for wave in plan(day, schedule.current().send_time, audience_groups()):
        if checked is not None and wave.due_at <= checked:
            continue  # decided already: started above, or left for the next date
        row = WaveRow(
            wave.due_at,
            local_times(wave.due_at, [g.timezone for g in wave.groups]),
            wave.recipients,
            wave.cost(text, template=template, prices=prices),
            "due" if wave.due_at <= now else "upcoming",
        )
        rows.append(row)
    return sorted(rows, key=lambda r: r.due_at)


# --- quiet hours -----------------------------------------------------------------

RELEASE_BATCH = 1000


def release_held(now: datetime) -> int:
    """Publish the queued broadcast messages whose wait (quiet hours, a retry's back-off)
    ended by now and that nothing has touched since; returns how many."""
    waiting = Message.objects.filter(
        status=MessageStatus.QUEUED,
        kind=MessageKind.BROADCAST,
        next_attempt_at__lte=now,
        updated_at__lt=F("next_attempt_at"),
        broadcast__state=BroadcastState.SENDING,
    ).order_by("id")
    released = 0
    while ids := list(waiting.values_list("id", flat=True)[:RELEASE_BATCH]):
        with transaction.atomic():
            # Touched now, so the next check does not publish them again.
            Message.objects.filter(pk__in=ids).update(updated_at=now)
            outbox.enqueue(task_names.QUEUE_SENDS, ids, queue=BULK_QUEUE)
        released += len(ids)
    if released:
        log.info("%d held broadcast message(s) released: their quiet hours are over", released)
    return released
