"""Broadcasts and daily content in the admin.

A broadcast is composed on a form with only what an operator sets, checked on
a preview (where a test goes to the operator's phone) and then sent or
scheduled. From then on its page is a record that shows its state, progress
and counts, refreshing itself while it moves, with links to its messages.

Who may do what: viewing needs messaging.view_broadcast; composing needs
add_broadcast; sending, scheduling, test sends, pause, resume, cancel and
retry need change_broadcast (Operations Managers and DevOps); deleting a
draft needs delete_broadcast. Every state change is recorded in the audit log.
"""

import math
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from import_export.admin import ImportExportModelAdmin

from messaging import outcomes
from messaging.admin.compose import ComposeForm, TestSendForm
from messaging.admin.content_report import content_report_view
from messaging.billing import budget, pricing, segments
from messaging.broadcasts import audience, progress, states, testsend, waves
from messaging.broadcasts.content_import import DailyContentResource
from messaging.models import (
    Broadcast,
    BroadcastState,
    DailyContent,
    Message,
    SendMode,
)
from messaging.outbound import config_errors, ratelimit
from messaging.outcomes import Bucket, Outcomes
from messaging.reports import alerts, attribution, dashboard, figures, skips
from smsbot import audit, timezones
from smsbot.admin_base import VersionedAdmin
from smsbot.admin_filters import ChoicesInFilter
from smsbot.redaction import mask_phone
from subscribers.models import Channel

# At most this many broadcasts in one progress request (a list page's worth).
PROGRESS_LIMIT = 100


def show_banners(request: HttpRequest, sending_only: bool = False) -> None:
    """The active alerts (configuration errors, budget, missing content) as messages;
    sending_only: those about sending, on a broadcast's pages."""
    for alert in alerts.active(sending_only):
        level = messages.ERROR if alert.level == alerts.ERROR else messages.WARNING
        messages.add_message(request, level, alert.text)


def messages_url(broadcast: Broadcast, bucket: str | None = None, **where: str) -> str:
    """The Messages list filtered to this broadcast (and this outcome, and where's filters)."""
    query = {"broadcast__id__exact": broadcast.pk, **where}
    if bucket:
        query["outcome"] = bucket
    return f"{reverse('admin:messaging_message_changelist')}?{urlencode(query)}"


def live_fields(
    broadcast: Broadcast,
    counts: Outcomes | None = None,
    detail: figures.BroadcastFigures | None = None,
    caused: attribution.Caused | None = None,
) -> dict[str, Any]:
    """What the list, the broadcast's page and the dashboard show of its progress
    (figures.broadcast_live) and, given caused, what it caused (attribution's figures);
    broadcast_live.js refreshes them from the progress view."""
    if counts is None:
        counts = progress.shown([broadcast])[broadcast.pk]
    live = figures.broadcast_live(broadcast, counts, detail)
    if caused is not None:
        live["text"].update(caused.live_text())
    return live


def wave_rows(broadcast: Broadcast) -> list[waves.WaveRow]:
    """A local-time daily broadcast's waves (none for one sent at the same moment)."""
    if broadcast.mode != SendMode.LOCAL_TIME or broadcast.date is None:
        return []
    template = bool(broadcast.whatsapp_content_sid)
    return waves.wave_rows(broadcast.date, broadcast.text, template=template, broadcast=broadcast)


def can_operate(request: HttpRequest) -> bool:
    """Send, schedule, test, pause, resume, cancel and retry broadcasts."""
    return request.user.has_perm("messaging.change_broadcast")


# name -> (audit verb, what it does; False when the broadcast was not in a state for it)
Operation = Callable[[Broadcast, HttpRequest, str], bool]
OPERATIONS: dict[str, tuple[str, Operation]] = {
    "pause": (
        "Paused",
        lambda b, request, reason: states.pause(
            b, f"paused by {request.user}" + (f": {reason}" if reason else "")
        ),
    ),
    "resume": ("Resumed", lambda b, request, reason: states.resume(b)),
    "cancel": ("Cancelled", lambda b, request, reason: states.cancel(b)),
    "unschedule": ("Taken back to draft", lambda b, request, reason: states.unschedule(b)),
}
# On a broadcast's page these need the operator's reason, kept in the audit log.
REASONED = ("pause", "resume", "cancel")
REASON_LIMIT = 500


def operate(request: HttpRequest, broadcast: Broadcast, name: str, reason: str = "") -> bool:
    """Pause, resume, cancel or unschedule one broadcast, and record it (with the
    operator's reason) if it happened."""
    verb, act = OPERATIONS[name]
    before = broadcast.state
    if not act(broadcast, request, reason):
        return False
    broadcast.refresh_from_db()
    audit.record(
        request.user, broadcast, verb, changes={"state": (before, broadcast.state)}, detail=reason
    )
    return True


def retry_failed(request: HttpRequest, broadcast: Broadcast) -> int:
    retried = states.retry_failed(broadcast)
    if retried:
        audit.record(
            request.user, broadcast, "Retried failed messages", detail=f"{retried} queued again"
        )
    return retried


def actions_for(broadcast: Broadcast, counts: Outcomes) -> list[tuple[str, str]]:
    """The buttons the broadcast's page offers in its state: (operation, label)."""
    state = broadcast.state
    offered = {
        BroadcastState.SCHEDULED: [("unschedule", "Back to draft"), ("cancel", "Cancel")],
        BroadcastState.SENDING: [("pause", "Pause"), ("cancel", "Cancel")],
        BroadcastState.PAUSED: [("resume", "Resume"), ("cancel", "Cancel")],
    }.get(state, [])
    if state in (BroadcastState.DONE, BroadcastState.SENDING) and counts[Bucket.FAILED]:
        offered.append(("retry_failed", "Retry failed messages"))
    return offered


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    list_display = ["name", "state_display", "progress_display", "delivered_display",
                    "failed_display", "when"]  # fmt: skip
    list_filter = [("state", ChoicesInFilter), "channel"]
    search_fields = ["name", "idempotency_key"]
    actions = ["pause_selected", "resume_selected", "cancel_selected", "retry_failed_selected"]
    form = ComposeForm
    fieldsets = [
        (None, {"fields": ["name", "text", "channel"]}),
        (
            "WhatsApp template",
            {
                "fields": ["whatsapp_content_sid", "whatsapp_content_variables"],
                "description": "Only for WhatsApp subscribers who have not written in the "
                "last 24 hours: WhatsApp lets a business start a conversation with an "
                "approved template only.",
            },
        ),
        ("When", {"fields": ["scheduled_for"]}),
    ]

    class Media:
        css = {"all": ["messaging/broadcasts.css"]}
        js = ["messaging/compose.js", "messaging/broadcast_live.js"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Broadcast]:
        # A broadcast's page shows what it caused: the rollup row comes in the same query.
        return super().get_queryset(request).select_related("attribution")

    # --- the list -------------------------------------------------------------------
    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        # One count for the whole page (progress.shown), not one per row and column.
        shown = progress.shown(list(changelist.result_list))
        for broadcast in changelist.result_list:
            broadcast.live = live_fields(broadcast, shown[broadcast.pk])
        return changelist

    def _live(self, obj: Broadcast, field: str) -> str:
        live = obj.live if hasattr(obj, "live") else live_fields(obj)
        return format_html(
            '<span data-broadcast="{}" data-live="{}"{}>{}</span>',
            obj.pk,
            field,
            mark_safe(" data-moving") if live["live"] else "",
            live["text"][field],
        )

    @admin.display(description="state", ordering="state")
    def state_display(self, obj: Broadcast) -> str:
        return self._live(obj, "state")

    @admin.display(description="progress")
    def progress_display(self, obj: Broadcast) -> str:
        live = obj.live if hasattr(obj, "live") else live_fields(obj)
        return format_html(
            '<progress data-broadcast="{}" data-live="bar" value="{}" max="{}"></progress> {}',
            obj.pk,
            live["value"],
            live["max"],
            self._live(obj, "progress"),
        )

    @admin.display(description="delivered")
    def delivered_display(self, obj: Broadcast) -> str:
        return self._live(obj, "delivered")

    @admin.display(description="failed")
    def failed_display(self, obj: Broadcast) -> str:
        return self._live(obj, "failed")

    @admin.display(description="started", ordering="started_at")
    def when(self, obj: Broadcast) -> str:
        return self._live(obj, "started")

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method == "GET":
            show_banners(request, sending_only=True)
        extra_context = {
            "title": "Broadcasts",
            **(extra_context or {}),
            "config_error": config_errors.current(),
            "can_dismiss": self.has_change_permission(request),
            "schedule_url": schedule_url(request),
        }
        return super().changelist_view(request, extra_context)

    # --- permissions ----------------------------------------------------------------
    def has_change_permission(self, request: HttpRequest, obj: Broadcast | None = None) -> bool:
        # Only a draft can still be edited; a started broadcast is a record.
        editable = obj is None or obj.state == BroadcastState.DRAFT
        return editable and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Broadcast | None = None) -> bool:
        deletable = obj is None or (obj.state == BroadcastState.DRAFT and not obj.messages.exists())
        return deletable and super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # A draft is deleted from its own page; the list's bulk delete would not ask its state.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- compose --------------------------------------------------------------------
    def save_model(self, request: HttpRequest, obj: Broadcast, form: Any, change: bool) -> None:
        if not change:
            obj.idempotency_key = f"adhoc:{uuid.uuid4()}"
            obj.created_by = request.user
            obj.state = BroadcastState.DRAFT
        super().save_model(request, obj, form, change)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "title": "Compose a broadcast"}
        return super().add_view(request, form_url, extra_context)

    def response_add(self, request: HttpRequest, obj: Broadcast, *args: Any) -> HttpResponse:
        if "_preview" in request.POST:
            return HttpResponseRedirect(preview_url(obj))
        return super().response_add(request, obj, *args)

    def response_change(self, request: HttpRequest, obj: Broadcast) -> HttpResponse:
        if "_preview" in request.POST:
            return HttpResponseRedirect(preview_url(obj))
        return super().response_change(request, obj)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        broadcast = self.get_object(request, unquote(object_id))
        if broadcast is not None and not self.has_change_permission(request, broadcast):
            # A broadcast that has left draft (or that this user may not edit) is a record.
            return self.record_view(request, broadcast)
        if broadcast is not None:
            extra_context = {**(extra_context or {}), "title": f"Edit the draft “{broadcast}”"}
        return super().change_view(request, object_id, form_url, extra_context)

    # --- extra pages ----------------------------------------------------------------
    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        own = [
            path("progress/", view(self.progress_view), name="messaging_broadcast_progress"),
            path("<int:pk>/preview/", view(self.preview_view), name="messaging_broadcast_preview"),
            path("<int:pk>/act/", view(self.act_view), name="messaging_broadcast_act"),
            path(
                "dismiss-configuration-error/",
                view(self.dismiss_view),
                name="messaging_broadcast_dismiss_config",
            ),
        ]
        return own + super().get_urls()

    def _page(self, request: HttpRequest, title: str, **context: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "media": self.media,
            "title": title,
            **context,
        }

    def record_view(self, request: HttpRequest, broadcast: Broadcast) -> HttpResponse:
        """The broadcast's page once it has left draft: state, progress, counts, links."""
        if not self.has_view_permission(request, broadcast):
            raise PermissionDenied
        if request.method == "GET":
            show_banners(request, sending_only=True)
        detail = figures.broadcast_figures_of([broadcast])[broadcast.pk]
        counts = detail.counts
        context = self._page(
            request,
            broadcast.name,
            broadcast=broadcast,
            live=live_fields(broadcast, counts, detail),
            skips=skips.after([broadcast], {broadcast.pk: counts})[broadcast.pk],
            counts=[
                (bucket, label, counts[bucket], messages_url(broadcast, bucket))
                for bucket, label in outcomes.BUCKETS
            ],
            by_channel=[
                (field, label, n, messages_url(broadcast, **where))
                for field, label, n, where in detail.channels.rows()
            ],
            messages_url=messages_url(broadcast),
            caused=attribution.caused_of([broadcast], {broadcast.pk: counts})[broadcast.pk],
            caused_window=attribution.window_words(),
            spent=detail.spent,
            timeline=timeline(broadcast),
            tests=test_rows(broadcast),
            waves=wave_rows(broadcast),
            actions=actions_for(broadcast, counts) if can_operate(request) else [],
            segments=segments.count(broadcast.text),
            channel=Channel(broadcast.channel).label if broadcast.channel else "Every channel",
        )
        return TemplateResponse(request, "admin/messaging/broadcast/record.html", context)

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Recipients, segments, cost and spend before sending; a test; then send or schedule."""
        broadcast = get_object_or_404(Broadcast, pk=pk)
        if not self.has_view_permission(request, broadcast):
            raise PermissionDenied
        if broadcast.state not in testsend.TESTABLE_STATES:
            return HttpResponseRedirect(change_url(broadcast))
        test_form = TestSendForm()
        p = audience.preview(
            broadcast.text, broadcast.channel, template=bool(broadcast.whatsapp_content_sid)
        )
        if request.method == "POST":
            if not can_operate(request):
                raise PermissionDenied
            if "test" in request.POST:
                test_form = TestSendForm(request.POST)
                if self._send_test(request, broadcast, test_form):
                    return HttpResponseRedirect(preview_url(broadcast))
            elif needs_confirmation(request, broadcast, p):
                return self._confirm_page(request, broadcast, p)
            else:
                return self._go(request, broadcast)
        spend = budget.status()
        context = self._page(
            request,
            f"Preview: {broadcast.name}",
            broadcast=broadcast,
            state=figures.state_label(broadcast),
            preview=p,
            skips=skips.preview_rows(p.skips, broadcast.channel),
            by_channel=[(Channel(ch).label, n) for ch, n in p.by_channel.items()],
            by_provider=[(pricing.provider_label(pr), c) for pr, c in p.cost_by_provider.items()],
            budget=spend,
            after_send=spend.spent + p.projected_cost,
            over_limit=spend.spent + p.projected_cost > spend.limit,
            no_template=p.by_channel.get(Channel.WHATSAPP) and not broadcast.whatsapp_content_sid,
            scheduled_for=timezones.shown(broadcast.scheduled_for)
            if broadcast.scheduled_for
            else "",
            test_form=test_form,
            tests=test_rows(broadcast),
            can_operate=can_operate(request),
            can_edit=self.has_change_permission(request, broadcast),
            zone=timezones.zone_label(),
            quiet_hours=settings.QUIET_HOURS,
        )
        return TemplateResponse(request, "admin/messaging/broadcast/preview.html", context)

    def _confirm_page(
        self, request: HttpRequest, broadcast: Broadcast, p: audience.Preview
    ) -> HttpResponse:
        """The step between the button and the send: who, what it costs, when it ends."""
        scheduling = "schedule" in request.POST
        start = broadcast.scheduled_for if scheduling and broadcast.scheduled_for else None
        took = audience.sending_time(p.by_channel, ratelimit.send_rate)
        # Those inside their quiet hours go when those end: the send ends no earlier.
        begins = max(filter(None, (start or timezone.now(), p.quiet_hours_end)))
        # Those whose quiet hours begin while it is still sending wait for the morning.
        starting = start or timezone.now()
        into_quiet = audience.entering_quiet_hours(broadcast.channel, starting, starting + took)
        context = self._page(
            request,
            f"Send “{broadcast.name}” to {p.recipients} recipients?",
            broadcast=broadcast,
            preview=p,
            by_channel=[(Channel(ch).label, n) for ch, n in p.by_channel.items()],
            button="schedule" if scheduling else "send",
            starts=timezones.shown(start) if start else "now",
            takes=duration_words(took),
            finishes=timezones.shown(begins + took),
            # The pace of SMS: SMS_SEND_RATE, or the origination identity's MPS when lower.
            rate=ratelimit.send_rate(audience.provider_for(broadcast.channel or Channel.SMS)),
            quiet_hours=settings.QUIET_HOURS,
            quiet_ends=outcomes.clock(p.quiet_hours_end) if p.quiet_hours_end else "",
            into_quiet=into_quiet,
        )
        return TemplateResponse(request, "admin/messaging/broadcast/confirm_send.html", context)

    def _send_test(self, request: HttpRequest, broadcast: Broadcast, form: TestSendForm) -> bool:
        if not form.is_valid():
            return False
        try:
            message = testsend.send_test(broadcast, form.cleaned_data["phone"])
        except testsend.TestRefused as exc:
            form.add_error("phone", str(exc))
            return False
        audit.record(
            request.user,
            broadcast,
            "Sent a test",
            detail=f"message {message.pk} to {mask_phone(message.phone)}",
        )
        link = reverse("admin:messaging_message_change", args=[message.pk])
        messages.success(
            request,
            format_html(
                'Test queued to {} (<a href="{}">message {}</a>); its status shows below.',
                message.phone,
                link,
                message.pk,
            ),
        )
        return True

    def _go(self, request: HttpRequest, broadcast: Broadcast) -> HttpResponse:
        """Send now, or schedule for the time the draft carries."""
        if broadcast.state != BroadcastState.DRAFT:
            messages.error(request, "This broadcast has already left draft.")
            return HttpResponseRedirect(change_url(broadcast))
        if "schedule" in request.POST:
            when = broadcast.scheduled_for
            if when is None or when <= timezone.now():
                messages.error(request, "Its scheduled time has passed: edit it first.")
                return HttpResponseRedirect(preview_url(broadcast))
            if states.schedule_for(broadcast, when):
                audit.record(
                    request.user,
                    broadcast,
                    "Scheduled",
                    changes={"state": (BroadcastState.DRAFT, broadcast.state)},
                    detail=f"to start {timezones.shown(when)}",
                )
                messages.success(
                    request, f"“{broadcast.name}” will be sent {timezones.shown(when)}."
                )
        elif "send" in request.POST and states.start(broadcast):
            audit.record(
                request.user,
                broadcast,
                "Started sending",
                changes={"state": (BroadcastState.DRAFT, broadcast.state)},
            )
            messages.success(request, f"Sending “{broadcast.name}”.")
        return HttpResponseRedirect(change_url(broadcast))

    def act_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The buttons of a broadcast's page: pause, resume, cancel, unschedule, retry."""
        if request.method != "POST" or not can_operate(request):
            raise PermissionDenied
        broadcast = get_object_or_404(Broadcast, pk=pk)
        name = request.POST.get("operation", "")
        if name == "retry_failed":
            messages.info(request, f"{retry_failed(request, broadcast)} failed message(s) queued.")
        elif name in OPERATIONS:
            verb = OPERATIONS[name][0]
            reason = " ".join(request.POST.get("reason", "").split())
            if name in REASONED and not reason:
                messages.error(request, f"Not changed: say why ({verb.lower()}) in the reason.")
            elif len(reason) > REASON_LIMIT:
                messages.error(
                    request, f"Not changed: the reason is over {REASON_LIMIT} characters."
                )
            elif operate(request, broadcast, name, reason):
                messages.success(request, f"{verb}: “{broadcast.name}”.")
            else:
                messages.warning(request, f"Not changed: it is {broadcast.get_state_display()}.")
        else:
            messages.error(request, "Unknown operation.")
        return HttpResponseRedirect(change_url(broadcast))

    def progress_view(self, request: HttpRequest) -> JsonResponse:
        """The live fields of the broadcasts a page shows, for broadcast_live.js: the one
        progress endpoint of the list, the broadcast's page and the dashboard."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        raw = request.GET.getlist("id")
        if len(raw) > PROGRESS_LIMIT or not all(i.isdigit() for i in raw):
            return JsonResponse(
                {"error": f"id must be a broadcast id, at most {PROGRESS_LIMIT} of them"},
                status=400,
            )
        operator = can_operate(request)
        found = list(Broadcast.objects.filter(pk__in=[int(i) for i in raw]))
        # Asked only for broadcasts that may move: their split and spend are counted
        # with them.
        detail = figures.broadcast_figures_of(found)
        shown = {pk: d.counts for pk, d in detail.items()}
        caused = attribution.caused_of(found, shown)
        skipped = skips.after(found, shown)
        answer: dict[str, Any] = {
            "broadcasts": [
                {
                    **live_fields(b, shown[b.pk], detail[b.pk], caused[b.pk]),
                    "skips": skipped[b.pk],
                    "actions": [op for op, _ in actions_for(b, shown[b.pk])] if operator else [],
                }
                for b in found
            ]
        }
        if request.GET.get("daily"):
            answer["daily_started"] = dashboard.daily_started()
        return JsonResponse(answer)

    def dismiss_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        problem = config_errors.current()
        config_errors.dismiss()
        if problem:
            audit.record_for_model(
                request.user,
                Broadcast,
                "Dismissed a provider configuration error",
                detail=f"{problem['provider']} {problem['code']}",
            )
        messages.success(request, "Configuration error dismissed.")
        return HttpResponseRedirect(reverse("admin:messaging_broadcast_changelist"))

    # --- list actions ---------------------------------------------------------------
    def _act(self, request: HttpRequest, queryset: QuerySet, name: str) -> None:
        chosen = list(queryset)
        braked = [b for b in chosen if b.braked_at is not None]
        if braked and name in ("resume", "cancel"):
            # The brake stopped these: an operator decides on each page, with a reason.
            chosen = [b for b in chosen if b.braked_at is None]
            messages.warning(
                request,
                f"{len(braked)} broadcast(s) paused by the brake: resume or cancel each on "
                "its page, with a reason.",
            )
        changed = sum(1 for b in chosen if operate(request, b, name))
        verb = OPERATIONS[name][0]
        messages.info(request, f"{verb}: {changed} of {len(chosen)} broadcast(s).")

    @admin.action(description="Pause selected broadcasts", permissions=["change"])
    def pause_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._act(request, queryset, "pause")

    @admin.action(description="Resume selected broadcasts", permissions=["change"])
    def resume_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._act(request, queryset, "resume")

    @admin.action(description="Cancel selected broadcasts", permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._act(request, queryset, "cancel")

    @admin.action(
        description="Retry failed messages of selected broadcasts", permissions=["change"]
    )
    def retry_failed_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        retried = sum(retry_failed(request, b) for b in queryset)
        messages.info(request, f"{retried} failed message(s) queued again.")


def needs_confirmation(request: HttpRequest, broadcast: Broadcast, p: audience.Preview) -> bool:
    """A send or schedule of a draft to more than one recipient asks once more first; the
    confirming POST carries "confirmed"."""
    going = "send" in request.POST or "schedule" in request.POST
    return (
        going
        and broadcast.state == BroadcastState.DRAFT
        and p.recipients > 1
        and "confirmed" not in request.POST
    )


def duration_words(span: timedelta) -> str:
    """'about 40 seconds', 'about 12 minutes', 'about 3 hours 5 minutes'."""
    seconds = max(1, math.ceil(span.total_seconds()))
    if seconds < 90:
        return f"about {seconds} second{'s' if seconds != 1 else ''}"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} minutes"
    return f"about {minutes // 60} hours {minutes % 60} minutes"


def change_url(broadcast: Broadcast) -> str:
    return reverse("admin:messaging_broadcast_change", args=[broadcast.pk])


def preview_url(broadcast: Broadcast) -> str:
    return reverse("admin:messaging_broadcast_preview", args=[broadcast.pk])


def schedule_url(request: HttpRequest) -> str:
    """The Daily schedule screen, for those who may see it."""
    if not request.user.has_perm("messaging.view_dailyscheduletask"):
        return ""
    return reverse("admin:messaging_dailyscheduletask_changelist")


def test_rows(broadcast: Broadcast) -> list[tuple[Message, str]]:
    """Its latest test sends, each with when it was queued in the operations timezone."""
    tests = broadcast.test_messages.order_by("-created_at", "-id")[:20]
    return [(message, timezones.shown(message.created_at)) for message in tests]


def timeline(broadcast: Broadcast) -> list[tuple[str, str]]:
    """When it was made, scheduled, started and finished, in the operations timezone."""
    by = f" by {broadcast.created_by}" if broadcast.created_by else ""
    rows = [("Created", f"{timezones.shown(broadcast.created_at)}{by}")]
    for label, moment in [
        ("Scheduled for", broadcast.scheduled_for),
        ("Started", broadcast.started_at),
        ("Finished", broadcast.finished_at),
    ]:
        if moment:
            rows.append((label, timezones.shown(moment)))
    return rows


class DailyContentForm(forms.ModelForm):
    class Meta:
        model = DailyContent
        fields = ["date", "text", "whatsapp_content_sid", "whatsapp_content_variables"]


@admin.register(DailyContent)
class DailyContentAdmin(VersionedAdmin, ImportExportModelAdmin):
    resource_classes = [DailyContentResource]
    form = DailyContentForm
    list_display = ["date", "excerpt", "segment_info", "whatsapp_content_sid"]
    date_hierarchy = "date"
    search_fields = ["text"]
    # import-export's list with its Import and Export buttons, and ours around it.
    import_export_change_list_template = "admin/messaging/dailycontent/change_list.html"

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

    def get_urls(self) -> list:
        report = self.admin_site.admin_view(partial(content_report_view, self))
        own = [path("report/", report, name="messaging_dailycontent_report")]
        return own + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method == "GET":
            show_banners(request)
        extra_context = {
            **(extra_context or {}),
            "schedule_url": schedule_url(request),
            "report_url": reverse("admin:messaging_dailycontent_report"),
        }
        return super().changelist_view(request, extra_context)

    def save_model(self, request: HttpRequest, obj: DailyContent, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        for warning in segments.count(obj.text).warnings:
            messages.warning(request, f"{obj.date}: {warning}")
