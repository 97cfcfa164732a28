"""The Daily schedule screen: when the daily broadcast goes out, in words, not cron.

It edits the same django-celery-beat rows as the raw Periodic tasks admin
(through messaging.broadcasts.schedule), which stays for DevOps. Seeing it
needs messaging.view_dailyscheduletask (Operations Managers and DevOps);
changing it needs messaging.change_dailyscheduletask (DevOps). Nothing here
deletes, and every change is recorded in the audit log.
"""

from datetime import date, datetime, time
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from messaging.admin.broadcasts import duration_words
from messaging.broadcasts import audience, daily, due, schedule
from messaging.broadcasts.schedule import DailySchedule
from messaging.models import Broadcast, DailyScheduleTask
from messaging.outbound import ratelimit
from messaging.reports import skips
from smsbot import audit, timezones
from subscribers.models import Channel

# The zones most operators pick; any other is a search away.
COMMON_TIMEZONES = [
    ("America/New_York", "US Eastern (New York)"),
    ("America/Chicago", "US Central (Chicago)"),
    ("America/Denver", "US Mountain (Denver)"),
    ("America/Phoenix", "Arizona (Phoenix)"),
    ("America/Los_Angeles", "US Pacific (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
    ("Europe/London", "UK (London)"),
    ("Europe/Berlin", "Central Europe (Berlin)"),
    ("Asia/Kolkata", "India (Kolkata)"),
    ("Australia/Sydney", "Australia Eastern (Sydney)"),
    ("UTC", "UTC"),
]
OTHER = "other"
MODE_CHOICES = [
    (
        schedule.SAME_MOMENT,
        "Same moment for everyone: at the send time in the timezone above, wherever "
        "each subscriber is.",
    ),
    (
        schedule.LOCAL_TIME,
        "Each subscriber's own time: at the send time in each subscriber's timezone, "
        "in waves from east to west, never in their quiet hours.",
    ),
]


class ScheduleForm(forms.Form):
    time = forms.TimeField(
        label="Send time",
        input_formats=["%H:%M"],
        widget=timezones.ClockInput(),
    )
    timezone = forms.ChoiceField(
        label="Timezone", choices=[*COMMON_TIMEZONES, (OTHER, "Another timezone…")]
    )
    other_timezone = forms.CharField(
        label="Another timezone",
        required=False,
        widget=forms.TextInput(
            attrs={"list": "all-timezones", "placeholder": "Type to search, e.g. Europe/Madrid"}
        ),
    )
    enabled = forms.BooleanField(label="Send the daily broadcast every day", required=False)
    mode = forms.ChoiceField(label="Delivery", choices=MODE_CHOICES, widget=forms.RadioSelect)

    @classmethod
    def initial_from(cls, current: DailySchedule) -> dict[str, Any]:
        common = current.timezone in dict(COMMON_TIMEZONES)
        return {
            "time": time(current.hour, current.minute),
            "timezone": current.timezone if common else OTHER,
            "other_timezone": "" if common else current.timezone,
            "enabled": current.enabled,
            "mode": current.mode,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("timezone") == OTHER:
            zone = (data.get("other_timezone") or "").strip()
            if zone not in available_timezones():
                self.add_error(
                    "other_timezone",
                    "Pick a timezone from the list (a name such as Europe/Madrid).",
                )
            data["zone"] = zone
        else:
            data["zone"] = data.get("timezone", "")
        return data


def run_rows(current: DailySchedule, count: int = 5) -> list[dict[str, str]]:
    """The next runs in the schedule's time and in UTC, noting a day already sent."""
    runs = schedule.next_runs(current, count)
    keys = [daily.key_for(run.date()) for run in runs]
    sent = set(Broadcast.objects.filter(idempotency_key__in=keys).values_list("date", flat=True))
    return [
        {
            "local": timezones.shown(run, current.zone),
            "utc": timezones.shown_utc(run),
            "note": "already sent that day: this run sends nothing" if run.date() in sent else "",
        }
        for run in runs
    ]


def next_run_preview(current: DailySchedule) -> tuple[datetime, audience.Preview] | None:
    """The next run and its preview with today's subscribers; None with nothing to send."""
    runs = schedule.next_runs(current, 1)
    content = daily.text_for(runs[0].date()) if runs else None
    if content is None:
        return None
    return runs[0], audience.preview(content.text, template=bool(content.content_sid), at=runs[0])


def next_run_skips(current: DailySchedule) -> list[dict[str, Any]]:
    """Who the next run would skip or hold, and why, were it due with today's subscribers."""
    found = next_run_preview(current)
    return skips.preview_rows(found[1].skips) if found else []


def next_run_finish(current: DailySchedule) -> dict[str, Any] | None:
    """When the next run would finish at the send rate (SMS_SEND_RATE, or the origination
    identity's MPS when lower), and how many recipients' quiet hours begin before then.
    Only for one moment for everyone: at each one's local time there is no single send."""
    found = None if current.local_time else next_run_preview(current)
    if found is None:
        return None
    run, p = found
    took = audience.sending_time(p.by_channel, ratelimit.send_rate)
    # Those inside their quiet hours go when those end: the send ends no earlier.
    begins = max(filter(None, (run, p.quiet_hours_end)))
    return {
        "finishes": timezones.shown(begins + took, current.zone),
        "takes": duration_words(took),
        "rate": ratelimit.send_rate(audience.provider_for(Channel.SMS)),
        "into_quiet": audience.entering_quiet_hours("", run, run + took),
    }


def late_today(now: datetime | None = None) -> str:
    """When today's broadcast was due, if it is late (messaging.broadcasts.due's rule,
    the one the banner and the dashboard follow); "" otherwise."""
    today = due.today(now)
    if not today.overdue(now) or today.due_at is None:
        return ""
    return timezones.shown(today.due_at, today.due_at.tzinfo)


def describe(current: DailySchedule) -> str:
    if current.custom:
        return f"Custom schedule set in Periodic tasks ({current.custom})"
    if not current.enabled:
        return f"Off (when on: every day at {current.time} {current.timezone})"
    return f"Every day at {current.time} {current.timezone}"


MODE_SHORT = {schedule.SAME_MOMENT: "same moment", schedule.LOCAL_TIME: "subscriber's own time"}


def changes(before: DailySchedule, after: DailySchedule) -> dict[str, tuple[Any, Any]]:
    """What an operator changed, as the audit log shows it."""

    def on(s: DailySchedule) -> str:
        return "on" if s.enabled else "off"

    pairs = {
        "time": (before.time, after.time),
        "timezone": (before.timezone, after.timezone),
        "daily broadcast": (on(before), on(after)),
        "delivery": (MODE_SHORT[before.mode], MODE_SHORT[after.mode]),
    }
    return {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}


@admin.register(DailyScheduleTask)
class DailyScheduleAdmin(admin.ModelAdmin):
    """One screen instead of a list: the admin's list URL shows and saves the schedule."""

    actions = None
    # The raw Periodic tasks list links this task here (smsbot.admin.task_screens).
    periodic_task_name = schedule.PERIODIC_TASK_NAME

    class Media:
        css = {"all": ["messaging/broadcasts.css"]}
        js = ["messaging/schedule.js"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("", view(self.schedule_view), name="messaging_dailyscheduletask_changelist"),
            # The audit log links the row it records; the row's page is this screen.
            path(
                "<path:object_id>/change/",
                view(self.to_screen),
                name="messaging_dailyscheduletask_change",
            ),
            path(
                "<path:object_id>/history/",
                view(self.history_view),
                name="messaging_dailyscheduletask_history",
            ),
        ]

    def to_screen(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:messaging_dailyscheduletask_changelist"))

    def schedule_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        can_change = self.has_change_permission(request)
        current = schedule.current()
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            form = ScheduleForm(request.POST)
            if form.is_valid():
                return self._save(request, current, form.cleaned_data)
        else:
            form = ScheduleForm(initial=ScheduleForm.initial_from(current))
        last = schedule.last_daily_broadcast()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "media": self.media,
            "title": "Daily schedule",
            "current": current,
            "summary": describe(current),
            "zone_now": timezones.zone_label(current.zone),
            "form": form,
            "can_change": can_change,
            "runs": run_rows(current) if current.enabled and not current.custom else [],
            "next_skips": next_run_skips(current) if current.enabled else [],
            "next_finish": next_run_finish(current) if current.enabled else None,
            "quiet_hours": settings.QUIET_HOURS,
            "last": last,
            "last_started": timezones.shown(last.started_at) if last and last.started_at else "",
            "last_url": reverse("admin:messaging_broadcast_change", args=[last.pk]) if last else "",
            "late_today": late_today(),
            "skipped": [
                timezones.shown_date(date.fromisoformat(d)) for d in daily.skipped_days()[-3:]
            ],
            "mode_label": dict(MODE_CHOICES)[current.mode],
            "all_timezones": sorted(available_timezones()),
            "history_url": reverse(
                "admin:messaging_dailyscheduletask_history",
                args=[DailyScheduleTask.objects.get(name=schedule.PERIODIC_TASK_NAME).pk],
            ),
            "periodic_tasks_url": reverse("admin:django_celery_beat_periodictask_changelist")
            if request.user.has_perm("django_celery_beat.view_periodictask")
            else "",
        }
        return TemplateResponse(request, "admin/messaging/dailycontent/schedule.html", context)

    def _save(
        self, request: HttpRequest, before: DailySchedule, data: dict[str, Any]
    ) -> HttpResponse:
        try:
            after = schedule.update(
                hour=data["time"].hour,
                minute=data["time"].minute,
                timezone=data["zone"],
                enabled=data["enabled"],
                mode=data["mode"],
            )
        except schedule.InvalidSchedule as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(request.path)
        changed = changes(before, after)
        if changed or before.custom:
            task = DailyScheduleTask.objects.get(name=schedule.PERIODIC_TASK_NAME)
            audit.record(request.user, task, "Changed the daily schedule", changes=changed)
        text = f"Saved: {describe(after)}."
        if after.next_run:
            text += f" Next run {timezones.shown(after.next_run, after.zone)}."
        messages.success(request, text)
        return HttpResponseRedirect(request.path)
