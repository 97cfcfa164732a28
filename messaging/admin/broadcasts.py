"""Broadcasts and daily content in the admin: progress, actions, compose with preview."""

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from import_export.admin import ImportExportModelAdmin

from messaging.broadcasts import audience, states, windows
from messaging.broadcasts.content_import import DailyContentResource
from messaging.models import Broadcast, BroadcastState, DailyContent, SendMode
from messaging.outbound import budget, config_errors, segments
from messaging.reports import alerts


def show_banners(request: HttpRequest) -> None:
    """The active alerts (configuration errors, budget, missing content) as messages."""
    for alert in alerts.active():
        level = messages.ERROR if alert.level == alerts.ERROR else messages.WARNING
        messages.add_message(request, level, alert.text)


class ComposeForm(forms.ModelForm):
    class Meta:
        model = Broadcast
        fields = ["name", "text", "channel", "whatsapp_content_sid", "whatsapp_content_variables"]


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    list_display = [
        "name", "state", "progress", "total", "sent", "delivered", "failed", "skipped",
        "pause_reason", "created_at",
    ]  # fmt: skip
    list_filter = ["state", "channel"]
    search_fields = ["name", "idempotency_key"]
    actions = ["pause_selected", "resume_selected", "cancel_selected", "retry_failed_selected"]
    form = ComposeForm
    readonly_fields = [
        "idempotency_key", "date", "state", "pause_reason", "total", "sent", "delivered",
        "failed", "skipped", "cursor", "fanout_done", "created_by", "created_at", "started_at",
        "finished_at", "waves",
    ]  # fmt: skip

    @admin.display(description="progress")
    def progress(self, obj: Broadcast) -> str:
        done = obj.sent + obj.failed + obj.skipped
        return format_html(
            '<progress value="{}" max="{}" title="{} of {} sent"></progress> {}/{}',
            done, max(obj.total, 1), obj.sent, obj.total, obj.sent, obj.total,
        )  # fmt: skip

    @admin.display(description="waves (each subscriber's local time)")
    def waves(self, obj: Broadcast) -> str:
        if obj.mode != SendMode.LOCAL_TIME or obj.date is None:
            return "Sent at the same moment to everyone."
        rows = windows.wave_rows(
            obj.date, obj.text, template=bool(obj.whatsapp_content_sid), broadcast=obj
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{} UTC</td><td>{}</td><td>{} USD</td><td>{}</td></tr>",
            (
                (", ".join(r.local_times), f"{r.due_at:%Y-%m-%d %H:%M}", r.recipients,
                 f"{r.projected_cost:.4f}", r.status)
                for r in rows
            ),
        )  # fmt: skip
        return format_html(
            '<table class="waves"><thead><tr><th>Local time</th><th>UTC</th><th>Recipients</th>'
            "<th>Projected cost</th><th>Status</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

    def has_change_permission(self, request: HttpRequest, obj: Broadcast | None = None) -> bool:
        # Only a draft can still be edited; a started broadcast is a record.
        editable = obj is None or obj.state == BroadcastState.DRAFT
        return editable and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Broadcast | None = None) -> bool:
        return obj is not None and obj.state == BroadcastState.DRAFT and not obj.messages.exists()

    def save_model(self, request: HttpRequest, obj: Broadcast, form: Any, change: bool) -> None:
        if not change:
            obj.idempotency_key = f"adhoc:{uuid.uuid4()}"
            obj.created_by = request.user
            obj.state = BroadcastState.DRAFT
        super().save_model(request, obj, form, change)

    def response_add(self, request: HttpRequest, obj: Broadcast, *args: Any) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:messaging_broadcast_preview", args=[obj.pk]))

    def response_change(self, request: HttpRequest, obj: Broadcast) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:messaging_broadcast_preview", args=[obj.pk]))

    def get_urls(self) -> list:
        own = [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="messaging_broadcast_preview",
            ),
            path(
                "dismiss-configuration-error/",
                self.admin_site.admin_view(self.dismiss_view),
                name="messaging_broadcast_dismiss_config",
            ),
        ]
        return own + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method == "GET":
            show_banners(request)
        extra_context = {**(extra_context or {}), "config_error": config_errors.current()}
        return super().changelist_view(request, extra_context)

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        broadcast = get_object_or_404(Broadcast, pk=pk)
        if not self.has_view_permission(request, broadcast):
            return HttpResponseRedirect(reverse("admin:index"))
        if request.method == "POST" and "send" in request.POST:
            if not self.has_change_permission(request, broadcast):
                messages.error(request, "This broadcast has already started.")
            elif states.start(broadcast):
                messages.success(request, f"Sending “{broadcast.name}”.")
            return HttpResponseRedirect(reverse("admin:messaging_broadcast_changelist"))
        p = audience.preview(
            broadcast.text, broadcast.channel, template=bool(broadcast.whatsapp_content_sid)
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Preview: {broadcast.name}",
            "broadcast": broadcast,
            "preview": p,
            "budget": budget.status(),
            "quiet_hours": settings.QUIET_HOURS,
            "can_send": broadcast.state == BroadcastState.DRAFT
            and self.has_change_permission(request, broadcast),
        }
        return TemplateResponse(request, "admin/messaging/broadcast/preview.html", context)

    def dismiss_view(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and self.has_change_permission(request):
            config_errors.dismiss()
            messages.success(request, "Configuration error dismissed.")
        return HttpResponseRedirect(reverse("admin:messaging_broadcast_changelist"))

    def _act(self, request: HttpRequest, queryset: QuerySet, verb: str, act: Any) -> None:
        changed = sum(1 for b in queryset if act(b))
        messages.info(request, f"{verb}: {changed} of {queryset.count()} broadcast(s).")

    @admin.action(description="Pause selected broadcasts")
    def pause_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        reason = f"paused by {request.user}"
        self._act(request, queryset, "Paused", lambda b: states.pause(b, reason))

    @admin.action(description="Resume selected broadcasts")
    def resume_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._act(request, queryset, "Resumed", states.resume)

    @admin.action(description="Cancel selected broadcasts")
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._act(request, queryset, "Cancelled", states.cancel)

    @admin.action(description="Retry failed messages of selected broadcasts")
    def retry_failed_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        retried = sum(states.retry_failed(b) for b in queryset)
        messages.info(request, f"{retried} failed message(s) queued again.")


class DailyContentForm(forms.ModelForm):
    class Meta:
        model = DailyContent
        fields = ["date", "text", "whatsapp_content_sid", "whatsapp_content_variables"]


@admin.register(DailyContent)
class DailyContentAdmin(ImportExportModelAdmin):
    resource_classes = [DailyContentResource]
    form = DailyContentForm
    list_display = ["date", "excerpt", "segment_info", "whatsapp_content_sid"]
    date_hierarchy = "date"
    search_fields = ["text"]

    @admin.display(description="text")
    def excerpt(self, obj: DailyContent) -> str:
        return obj.text[:60] + ("…" if len(obj.text) > 60 else "")

    @admin.display(description="segments")
    def segment_info(self, obj: DailyContent) -> str:
        info = segments.count(obj.text)
        label = f"{info.segments} × {info.encoding}"
        if info.warnings:
            return format_html('<span title="{}">⚠ {}</span>', "; ".join(info.warnings), label)
        return label

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method == "GET":
            show_banners(request)
        return super().changelist_view(request, extra_context)

    def save_model(self, request: HttpRequest, obj: DailyContent, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        for warning in segments.count(obj.text).warnings:
            messages.warning(request, f"{obj.date}: {warning}")
