"""The admin screens of the core: the audit log, and versioned schedules.

- Audit log: every entry of the operator audit trail (smsbot.audit), newest
  first, filterable by user, object type and date; nobody edits or deletes one.
- django-celery-beat's periodic tasks and crontab schedules keep their own
  screens, with History listing their versions (smsbot.history); a task
  with a screen of its own (the daily broadcast's Daily schedule) links
  there from the task list; the task list's actions (enable, disable, toggle,
  run now) save each task, so they
  are versioned and audited like an edit, and need the change permission.
- Users: who has set up two-factor login, and a superuser's enrolment link and
  reset buttons (smsbot.admin_users). Recovery codes have no screen of their
  own (django-otp's would let a superuser add codes for someone): the user list
  counts them, a reset deletes them.
- django-axes' access attempts: a superuser unlocks someone by deleting the
  attempt (Django logs the deletion); cleaning up expired ones is audited.
"""

from collections.abc import Callable
from typing import Any

from axes import admin as axes_admin
from axes.models import AccessAttempt
from celery import schedules
from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_otp.plugins.otp_static.models import StaticDevice

from smsbot import audit, timezones
from smsbot.admin_base import ReadOnlyAdmin, VersionedAdmin
from smsbot.admin_filters import DateRangeFilter, ObjectKindFilter
from smsbot.admin_users import PortalUserAdmin
from smsbot.models import AuditEntry


@admin.register(AuditEntry)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["when", "user", "object_link", "message"]
    list_filter = [
        ("user", admin.RelatedOnlyFieldListFilter),
        ("content_type", ObjectKindFilter),
        ("action_time", DateRangeFilter),
        "action_flag",
    ]
    date_hierarchy = "action_time"
    search_fields = ["object_repr", "change_message"]
    search_help_text = "Words of the object's name or of what was done."
    list_select_related = ["user", "content_type"]
    # "who" rather than the user field: Django would link that to the user's page,
    # which only superusers may open.
    fields = ["when", "who", "object_link", "message"]
    readonly_fields = fields
    list_per_page = 50

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # An object's History page links here filtered on that one object.
        return lookup == "object_id" or super().lookup_allowed(lookup, value, request)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).order_by("-action_time", "-id")

    @admin.display(description="when", ordering="action_time")
    def when(self, entry: AuditEntry) -> str:
        # Like every other page; the UTC time, which the logs carry, on hover.
        return timezones.shown_with_utc(entry.action_time)

    @admin.display(description="user")
    def who(self, entry: AuditEntry) -> str:
        return str(entry.user) if entry.user else ""

    @admin.display(description="object")
    def object_link(self, entry: AuditEntry) -> str:
        kind = entry.content_type.name if entry.content_type else ""
        url = entry.get_admin_url() if entry.object_id else ""
        if url:
            return format_html('{} <a href="{}">{}</a>', kind, url, entry.object_repr)
        return f"{kind} {entry.object_repr}".strip()

    @admin.display(description="what was done")
    def message(self, entry: AuditEntry) -> str:
        # Django logs a deletion without a message.
        return entry.get_change_message() or entry.get_action_flag_display()


class PeriodicTaskForm(beat_admin.PeriodicTaskForm):
    def clean(self) -> dict[str, Any]:
        # django-celery-beat's clean reads cleaned_data["task"], absent when the typed
        # task name was refused (a NUL): that field's error is the answer.
        if "task" not in self.cleaned_data:
            return self.cleaned_data
        return super().clean()


def task_screens(site: admin.AdminSite, request: HttpRequest) -> dict[str, str]:
    """Periodic task name -> the URL of the screen of its own that the user may open.

    An app gives a task such a screen by registering an admin that names the task
    in periodic_task_name (messaging's Daily schedule): found here, not imported.
    """
    screens = {}
    for model, model_admin in site._registry.items():
        name = getattr(model_admin, "periodic_task_name", None)
        if name and model_admin.has_view_permission(request):
            opts = model._meta
            screens[name] = reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_changelist")
    return screens


class PeriodicTaskList(ChangeList):
    screens: dict[str, str]

    def url_for_result(self, result: PeriodicTask) -> str:
        return self.screens.get(result.name) or super().url_for_result(result)


class PeriodicTaskAdmin(VersionedAdmin, beat_admin.PeriodicTaskAdmin):
    form = PeriodicTaskForm

    def get_changelist(self, request: HttpRequest, **kwargs: object) -> type[ChangeList]:
        return PeriodicTaskList

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        changelist = super().get_changelist_instance(request)
        changelist.screens = task_screens(self.admin_site, request)
        return changelist

    @admin.action(description="Enable selected tasks", permissions=["change"])
    def enable_tasks(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_enabled(request, queryset, lambda task: True)

    @admin.action(description="Disable selected tasks", permissions=["change"])
    def disable_tasks(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_enabled(request, queryset, lambda task: False)

    @admin.action(description="Toggle activity of selected tasks", permissions=["change"])
    def toggle_tasks(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_enabled(request, queryset, lambda task: not task.enabled)

    @admin.action(description="Run selected tasks now", permissions=["change"])
    def run_tasks(self, request: HttpRequest, queryset: QuerySet) -> None:
        tasks = list(queryset)
        super().run_tasks(request, queryset)
        audit.record(request.user, tasks, "Ran now")

    def _set_enabled(
        self, request: HttpRequest, queryset: QuerySet, enabled: Callable[[PeriodicTask], bool]
    ) -> None:
        # One save per task (not an UPDATE of all): beat sees the change through its
        # save signal, and the task's versions and the audit trail record it.
        changed = 0
        for task in queryset:
            before, task.enabled = task.enabled, enabled(task)
            if task.enabled != before:
                task.save(update_fields=["enabled"])
                verb = "Enabled" if task.enabled else "Disabled"
                audit.record(request.user, task, verb, changes={"enabled": (before, task.enabled)})
                changed += 1
        self.message_user(request, f"{changed} of {queryset.count()} task(s) changed.")


class CrontabScheduleForm(forms.ModelForm):
    """A schedule Celery can read: python-crontab's validators let some through (a
    negative minute) that celery's parser, and so beat and the page, fail on."""

    class Meta:
        model = CrontabSchedule
        fields = ["minute", "hour", "day_of_month", "month_of_year", "day_of_week", "timezone"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        parts = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")
        if all(part in data for part in parts):
            try:
                schedules.crontab(**{part: data[part] for part in parts})
            except (schedules.ParseException, ValueError) as exc:
                raise forms.ValidationError(f"Celery cannot read this schedule: {exc}") from exc
        return data


class CrontabScheduleAdmin(VersionedAdmin, beat_admin.CrontabScheduleAdmin):
    form = CrontabScheduleForm

    @admin.display(description="human readable")
    def human_readable(self, schedule: CrontabSchedule) -> str:
        # The form shown again with its errors describes the refused values too.
        try:
            return schedule.human_readable
        except (schedules.ParseException, ValueError):
            return "(not a schedule Celery can read)"


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    @admin.action(description="Clean up expired attempts", permissions=["delete"])
    def cleanup_expired_attempts(self, request: HttpRequest, queryset: QuerySet) -> None:
        super().cleanup_expired_attempts(request, queryset)
        audit.record_for_model(request.user, AccessAttempt, "Cleaned up expired attempts")


for model, model_admin in [
    (PeriodicTask, PeriodicTaskAdmin),
    (CrontabSchedule, CrontabScheduleAdmin),
    (AccessAttempt, AccessAttemptAdmin),
    (User, PortalUserAdmin),
]:
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
admin.site.unregister(StaticDevice)
