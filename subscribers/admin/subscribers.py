"""Subscribers in the admin: the list, the subscriber page, consent actions, import.

Consent is only ever changed through consent.change: the page shows it
read-only, and the opt-out / opt-in / erase actions ask for the evidence first.
"""

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV

from smsbot import audit
from smsbot.admin_base import LargeListMixin, ReadOnlyMixin
from subscribers import windows
from subscribers.admin.search import PhoneSearchMixin
from subscribers.consent import ConsentError, change
from subscribers.erasure import erase
from subscribers.forms import EraseForm, OptInEvidenceForm, OptOutForm, PauseForm
from subscribers.importing import SUBSCRIBER_COLUMNS, SubscriberResource
from subscribers.mirror.admin import MIRROR_ACTIONS, mirror_state
from subscribers.models import (
    ConsentEvent,
    ConsentSource,
    ConsentStatus,
    Conversation,
    Subscriber,
    SubscriberEvent,
)

CONSENT_FIELDS = ["consent_status", "consent_source", "opted_in_at", "opted_out_at"]
RECORD_FIELDS = [
    "created_at",
    "updated_at",
    "erased_at",
    "version",
    "mirror_synced_version",
    "mirror_synced_at",
    "mirror_error",
]
# Consent actions run one consent.change per row; beyond this, use the CSV import.
MAX_ACTION_ROWS = 500


def admin_evidence(request: HttpRequest, **details: str) -> dict[str, Any]:
    return {"admin_user": request.user.get_username(), "admin_user_id": request.user.pk, **details}


class HistoryInline(ReadOnlyMixin, admin.TabularInline):
    """An append-only event trail on the subscriber page, newest first."""

    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).order_by("-created_at", "-id")

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return list(self.fields)


class ConsentEventInline(HistoryInline):
    model = ConsentEvent
    fields = ["created_at", "from_status", "to_status", "source", "evidence"]
    verbose_name_plural = "Consent history (newest first)"


class SubscriberEventInline(HistoryInline):
    model = SubscriberEvent
    fields = ["created_at", "kind", "before", "after", "source", "evidence"]
    verbose_name_plural = "Delivery window history: pause, resume, preferred time (newest first)"


@admin.register(Subscriber)
class SubscriberAdmin(PhoneSearchMixin, LargeListMixin, ImportMixin, admin.ModelAdmin):
    list_display = [*SUBSCRIBER_COLUMNS]
    list_filter = [
        "consent_status",
        "channel",
        "consent_source",
        "undeliverable",
        "created_at",
        "opted_in_at",
        "opted_out_at",
    ]
    search_fields = ["phone"]
    search_help_text = "A phone number in any format, or the last digits of one."
    ordering = ["-id"]
    list_per_page = 50
    actions = [
        "opt_out", "opt_back_in", "pause_until", "resume", "export_csv", "erase_personal_data",
        *MIRROR_ACTIONS,
    ]  # fmt: skip
    inlines = [ConsentEventInline, SubscriberEventInline]
    resource_classes = [SubscriberResource]
    fieldsets = [
        (None, {"fields": ["phone", "channel", "messages_link"]}),
        (
            "Consent",
            {
                "fields": CONSENT_FIELDS,
                "description": "Change consent with the list page's actions: they keep evidence.",
            },
        ),
        ("Delivery", {"fields": ["undeliverable", "undeliverable_reason"]}),
        (
            "Delivery window",
            {
                "fields": ["timezone", "preferred_time", "pause"],
                "description": "Pause and resume with the list page's actions: they keep evidence.",
            },
        ),
        ("Conversation", {"fields": ["conversation"]}),
        (
            "Record",
            {
                "fields": [*RECORD_FIELDS, mirror_state],
                "classes": ["collapse"],
            },
        ),
    ]
    readonly_fields = [
        "phone",
        "messages_link",
        *CONSENT_FIELDS,
        "pause",
        "conversation",
        *RECORD_FIELDS,
        mirror_state,
    ]

    # New numbers arrive through opt-in, keywords or the import; none is ever
    # deleted (the consent trail points at it): erasure anonymises instead.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)

    def get_import_formats(self) -> list[type]:
        return [CSV]

    def search_other(self, queryset: QuerySet, term: str) -> QuerySet:
        """The last digits of a number (three or more; a trigram index on PostgreSQL)."""
        digits = re.sub(r"\D", "", term)
        if len(digits) < 3:
            return queryset.none()
        return queryset.filter(phone__contains=digits)

    @admin.display(description="Messages")
    def messages_link(self, obj: Subscriber) -> str:
        url = reverse("admin:messaging_message_changelist") + "?phone__exact=" + quote(obj.phone)
        return format_html('<a href="{}">Messages to and from this number</a>', url)

    @admin.display(description="Paused")
    def pause(self, obj: Subscriber) -> str:
        if not windows.is_paused(obj, timezone.now()):
            return "No"
        zone = obj.timezone or settings.DAILY_SEND_TIMEZONE
        return f"Yes: messages start again on {windows.restart_day(obj, obj.paused_until)} ({zone})"

    @admin.display(description="Conversation")
    def conversation(self, obj: Subscriber) -> str:
        conv = Conversation.objects.filter(phone_number=obj.phone).first()
        if conv is None:
            return "No conversation yet."
        return format_html(
            "<table><tr><th>State</th><td>{}</td></tr><tr><th>Messages</th><td>{}</td></tr>"
            "<tr><th>Last message</th><td>{}</td></tr><tr><th>Last reply</th><td>{}</td></tr>"
            "<tr><th>Context</th><td><code>{}</code></td></tr>"
            "<tr><th>Updated</th><td>{}</td></tr></table>",
            conv.conversation_state,
            conv.message_count,
            conv.last_message,
            conv.last_response,
            conv.user_context,
            conv.updated_at,
        )

    def save_model(self, request: HttpRequest, obj: Subscriber, form: Any, change: bool) -> None:
        # The preferred time goes through its only writer, which keeps it in the history.
        wanted = obj.preferred_time
        if "preferred_time" in form.changed_data:
            obj.preferred_time = form.initial.get("preferred_time")
        super().save_model(request, obj, form, change)
        if "preferred_time" in form.changed_data:
            windows.set_preferred_time(obj, wanted, ConsentSource.ADMIN, admin_evidence(request))

    # --- actions -----------------------------------------------------------------

    @admin.action(description="Opt out selected subscribers…", permissions=["change"])
    def opt_out(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._consent_action(
            request, queryset, ConsentStatus.OPTED_OUT, OptOutForm, "Opt out"
        )

    @admin.action(description="Opt selected subscribers back in…", permissions=["change"])
    def opt_back_in(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._consent_action(
            request, queryset, ConsentStatus.OPTED_IN, OptInEvidenceForm, "Opt back in"
        )

    def _consent_action(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        to_status: str,
        form_class: type[Form],
        title: str,
    ) -> HttpResponse | None:
        """The form's answers (reason, or evidence) become the event's evidence."""

        def apply(subscriber: Subscriber, data: dict[str, Any]) -> bool:
            evidence = admin_evidence(request, **data)
            return change(subscriber.phone, to_status, ConsentSource.ADMIN, evidence).changed

        return self._with_form(request, queryset, form_class, title, apply)

    @admin.action(description="Pause until…", permissions=["change"])
    def pause_until(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        def apply(subscriber: Subscriber, data: dict[str, Any]) -> bool:
            restart = data["restart"]
            evidence = admin_evidence(request, reason=data["reason"], restart=restart.isoformat())
            result = windows.pause(subscriber, restart, ConsentSource.ADMIN, evidence)
            if result.changed:
                audit.record(
                    request.user,
                    result.subscriber,
                    "Paused",
                    changes={"messages start again": (result.event.before, result.event.after)},
                    detail=data["reason"],
                )
            return result.changed

        return self._with_form(request, queryset, PauseForm, "Pause until…", apply)

    @admin.action(description="Resume selected subscribers", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet) -> None:
        resumed = 0
        for subscriber in queryset.filter(paused_until__isnull=False)[:MAX_ACTION_ROWS]:
            result = windows.resume(subscriber, ConsentSource.ADMIN, admin_evidence(request))
            if result.changed:
                resumed += 1
                audit.record(
                    request.user,
                    result.subscriber,
                    "Resumed",
                    changes={"messages start again": (result.event.before, "now")},
                )
        self.message_user(request, f"Resume: {resumed} subscriber(s) resumed.", messages.SUCCESS)

    @admin.action(
        description="Erase personal data of selected subscribers…", permissions=["change"]
    )
    def erase_personal_data(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        def apply(subscriber: Subscriber, data: dict[str, Any]) -> bool:
            evidence = admin_evidence(
                request, reason="erasure request", request_reference=data["request_reference"]
            )
            erase(subscriber, evidence)
            self.log_change(request, subscriber, "Personal data erased.")
            return True

        return self._with_form(request, queryset, EraseForm, "Erase personal data", apply)

    @admin.action(description="Export selected subscribers to CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        dataset = SubscriberResource().export(queryset.order_by("id"))
        response = HttpResponse(dataset.csv, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="subscribers.csv"'
        return response

    def _with_form(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        form_class: type[Form],
        title: str,
        apply: Callable[[Subscriber, dict[str, Any]], bool],
    ) -> HttpResponse | None:
        """Ask for the evidence on an intermediate page, then apply to each row."""
        queryset = queryset.filter(erased_at__isnull=True)
        count = queryset.count()
        if count > MAX_ACTION_ROWS:
            self.message_user(
                request,
                f"{count} rows selected; at most {MAX_ACTION_ROWS} at a time. "
                "Narrow the list, or use the CSV import for bulk changes.",
                messages.ERROR,
            )
            return None
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            changed, refused = 0, []
            for subscriber in queryset:
                try:
                    changed += apply(subscriber, form.cleaned_data)
                except ConsentError as exc:
                    refused.append(f"{subscriber}: {exc}")
            self.message_user(request, f"{title}: {changed} of {count} changed.", messages.SUCCESS)
            if refused:
                self.message_user(request, "Refused: " + "; ".join(refused), messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "subscribers": queryset[:MAX_ACTION_ROWS],
            "count": count,
            "action": request.POST.get("action", ""),
            "select_across": request.POST.get("select_across", "0"),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/subscribers/subscriber/action_form.html", context)
