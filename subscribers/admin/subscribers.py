"""Subscribers in the admin: the list, the subscriber page, consent actions, import, export.

Consent is only ever changed through consent.change: the page shows it with
buttons that ask for the reason or the evidence first, and the list's opt-out /
opt-in / erase actions do the same for many rows at once.
"""

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from smsbot import audit, timezones
from smsbot.admin_base import LargeListMixin, ReadOnlyMixin
from smsbot.admin_filters import ChoicesInFilter, DateRangeFilter
from subscribers import delivery_window
from subscribers.admin.consent import VERBS, admin_evidence, change_consent, offered
from subscribers.admin.email import (
    HasEmailFilter,
    add_email,
    by_address,
    can_stop,
    cannot_add,
    email_cell,
    email_form,
    stop_email,
    stop_form,
)
from subscribers.admin.exports import SubscriberExportMixin
from subscribers.admin.imports import SubscriberImportMixin
from subscribers.admin.mirroring import MirrorWhenOnMixin
from subscribers.admin.page import PageContextMixin, consent_form, subscriber_page
from subscribers.admin.pausing import (
    pause_buttons,
    pause_form,
    pause_state,
    pause_subscriber,
    resume_subscriber,
)
from subscribers.admin.search import PhoneSearchMixin
from subscribers.consent import ConsentError
from subscribers.erasure import erase
from subscribers.forms import EraseForm, OptInEvidenceForm, OptOutForm, PauseForm
from subscribers.history import evidence_items, when
from subscribers.importing import SubscriberResource
from subscribers.mirror.admin import MIRROR_ACTIONS, mirror_state
from subscribers.models import ConsentSource, ConsentStatus, Subscriber, SubscriberEvent

# Consent actions run one consent.change per row; beyond this, use the CSV import.
MAX_ACTION_ROWS = 500
MIRROR_FIELDSET = ("DynamoDB mirror", {"fields": [mirror_state]})


def dated(moment: datetime) -> str:
    """The day, in the zone the admin shows; the exact time with its zone on hover."""
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        when(moment),
        timezones.shown_date(timezone.localdate(moment, timezones.ops_zone())),
    )


class SubscriberEventInline(ReadOnlyMixin, admin.TabularInline):
    """Pause, resume and preferred time: append-only like the consent history."""

    model = SubscriberEvent
    fields = ["moment", "kind", "before", "after", "source", "evidence_text"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Delivery window history: pause, resume, preferred time (newest first)"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).order_by("-created_at", "-id")

    @admin.display(description="When")
    def moment(self, obj: SubscriberEvent) -> str:
        return when(obj.created_at)

    @admin.display(description="Evidence")
    def evidence_text(self, obj: SubscriberEvent) -> str:
        return "; ".join(f"{key}: {value}" for key, value in evidence_items(obj.evidence))


class PausedFilter(admin.SimpleListFilter):
    """Paused now (PAUSE, or an operator): the subscribers a broadcast skips as paused."""

    title = "paused"
    parameter_name = "paused"
    field_name = "paused_until"  # the column it reads (indexed)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Paused now")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(paused_until__gt=timezone.now())
        return queryset


@admin.register(Subscriber)
class SubscriberAdmin(
    MirrorWhenOnMixin,
    PageContextMixin,
    PhoneSearchMixin,
    LargeListMixin,
    SubscriberImportMixin,
    SubscriberExportMixin,
    admin.ModelAdmin,
):
    # Narrow enough for a laptop beside the admin's menu and the filters.
    list_display = [
        "phone", "email_address", "channel", "consent", "consent_source", "created", "delivery",
    ]  # fmt: skip
    list_filter = [
        ("consent_status", ChoicesInFilter),
        "channel",
        ("email_status", ChoicesInFilter),
        HasEmailFilter,
        "consent_source",
        "undeliverable",
        PausedFilter,
        ("created_at", DateRangeFilter),
        ("opted_in_at", DateRangeFilter),
        ("opted_out_at", DateRangeFilter),
        # Opted out at AWS while opted in here: the dashboard's review banner links here.
        ("provider_opt_out_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["phone"]
    search_help_text = (
        "A phone number in any format, the last digits of one, or a whole e-mail address."
    )
    ordering = ["-id"]
    list_per_page = 50
    actions = [
        "opt_out", "opt_back_in", "pause_until", "resume", "export_csv", "erase_personal_data",
        *MIRROR_ACTIONS,
    ]  # fmt: skip
    inlines = [SubscriberEventInline]
    resource_classes = [SubscriberResource]
    import_export_change_list_template = "admin/subscribers/subscriber/change_list.html"
    # Consent, its history and the conversation are shown around the form (page.py).
    fieldsets = [
        (None, {"fields": ["number", "channel", "first_seen"]}),
        ("Delivery", {"fields": ["undeliverable", "undeliverable_reason"]}),
        (
            "Delivery window",
            {
                "fields": ["timezone", "preferred_time", "pause"],
                "description": "Pause and resume with the buttons at the top of the page: "
                "they keep evidence.",
            },
        ),
        ("Record", {"fields": ["updated_at", "erased_at"], "classes": ["collapse"]}),
    ]
    readonly_fields = ["number", "first_seen", "pause", "updated_at", "erased_at", mirror_state]
    # The preferred time is on the subscriber's clock: no "Now" from the operator's.
    formfield_overrides = {models.TimeField: {"widget": timezones.ClockInput()}}

    # New numbers arrive through opt-in, keywords or the import; none is ever
    # deleted (the consent trail points at it): erasure anonymises instead.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list:
        # An empty history would show as a bare header row.
        if obj is None or not obj.events.exists():
            return []
        return super().get_inline_instances(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list:
        fieldsets = list(super().get_fieldsets(request, obj))
        # The mirror's state means something only while the mirror runs.
        if settings.DYNAMODB_SYNC_ENABLED:
            fieldsets.append(MIRROR_FIELDSET)
        return fieldsets

    def search_other(self, queryset: QuerySet, term: str) -> QuerySet:
        """An e-mail address, or the last digits of a number (three or more; a trigram
        index on PostgreSQL)."""
        if "@" in term:
            return by_address(queryset, term)
        digits = re.sub(r"\D", "", term)
        if len(digits) < 3:
            return queryset.none()
        return queryset.filter(phone__contains=digits)

    @admin.display(description="Consent", ordering="consent_status")
    def consent(self, obj: Subscriber) -> str:
        since = {
            ConsentStatus.OPTED_IN: obj.opted_in_at,
            ConsentStatus.OPTED_OUT: obj.opted_out_at,
        }.get(obj.consent_status)
        if since is None:
            return obj.get_consent_status_display()
        return format_html(
            '{}<br><span class="subscriber-quiet">since {}</span>',
            obj.get_consent_status_display(),
            dated(since),
        )

    @admin.display(description="E-mail", ordering="email")
    def email_address(self, obj: Subscriber) -> str:
        return email_cell(obj)

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj: Subscriber) -> str:
        return dated(obj.created_at)

    @admin.display(description="Delivery", ordering="undeliverable")
    def delivery(self, obj: Subscriber) -> str:
        if not obj.undeliverable:
            return ""
        return format_html(
            '<strong class="subscriber-warning" title="{}">undeliverable</strong>',
            obj.undeliverable_reason or "reported by the provider",
        )

    @admin.display(description="Number")
    def number(self, obj: Subscriber) -> str:
        return obj.phone

    @admin.display(description="Created")
    def first_seen(self, obj: Subscriber) -> str:
        return when(obj.created_at)

    @admin.display(description="Paused")
    def pause(self, obj: Subscriber) -> str:
        return pause_state(obj)

    def save_model(self, request: HttpRequest, obj: Subscriber, form: Any, change: bool) -> None:
        # The preferred time goes through its only writer, which keeps it in the history.
        wanted = obj.preferred_time
        if "preferred_time" in form.changed_data:
            obj.preferred_time = form.initial.get("preferred_time")
        super().save_model(request, obj, form, change)
        if "preferred_time" in form.changed_data:
            delivery_window.set_preferred_time(
                obj, wanted, ConsentSource.ADMIN, admin_evidence(request)
            )

    # --- the subscriber page -------------------------------------------------------

    def get_urls(self) -> list:
        return [
            path(
                "<path:object_id>/consent/",
                self.admin_site.admin_view(self.consent_view),
                name="subscribers_subscriber_consent",
            ),
            path(
                "<path:object_id>/email/",
                self.admin_site.admin_view(self.email_view),
                name="subscribers_subscriber_email",
            ),
            path(
                "<path:object_id>/pause/",
                self.admin_site.admin_view(self.pause_view),
                name="subscribers_subscriber_pause",
            ),
            *super().get_urls(),
        ]

    def page_context(self, request: HttpRequest, obj: Subscriber) -> dict[str, Any]:
        return subscriber_page(request, obj, self.has_change_permission(request, obj))

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        subscriber = self.get_object(request, unquote(object_id))
        if subscriber is not None:
            # The number in full, as on its page (the entries themselves keep it masked).
            extra_context = {
                "title": f"Change history: {subscriber.phone}",
                **(extra_context or {}),
            }
        return super().history_view(request, object_id, extra_context)

    @staticmethod
    def _form_problem(form: Form) -> str:
        field, errors = next(iter(form.errors.items()))
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}: {' '.join(errors)}" if label else " ".join(errors)

    def _changeable(self, request: HttpRequest, object_id: str) -> Subscriber:
        subscriber = self.get_object(request, unquote(object_id))
        if subscriber is None:
            raise Http404("No such subscriber.")
        if not self.has_change_permission(request, subscriber):
            raise PermissionDenied
        return subscriber

    @staticmethod
    def _page(subscriber: Subscriber) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:subscribers_subscriber_change", args=[subscriber.pk])
        )

    @method_decorator(require_POST)
    def consent_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The page's Opt out / Opt back in buttons: the same record as the list actions."""
        subscriber = self._changeable(request, object_id)
        page = self._page(subscriber)
        to_status = request.POST.get("to_status", "")
        if to_status not in offered(subscriber):
            messages.error(
                request,
                f"Nothing changed: {subscriber.phone} is "
                f"{subscriber.get_consent_status_display().lower()}.",
            )
            return page
        form = consent_form(to_status, request.POST)
        if not form.is_valid():
            messages.error(request, f"Nothing changed. {self._form_problem(form)}")
            return page
        try:
            changed = change_consent(request, subscriber, to_status, form.cleaned_data)
        except ConsentError as exc:
            messages.error(request, f"Nothing changed: {exc}.")
            return page
        if changed:
            messages.success(request, f"{subscriber.phone}: {VERBS[to_status].lower()}.")
        return page

    @method_decorator(require_POST)
    def email_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The page's Add an e-mail address… button: pending, and a confirmation sent;
        its Stop e-mail… button: the address opted out with the operator's reason."""
        subscriber = self._changeable(request, object_id)
        page = self._page(subscriber)
        if request.POST.get("operation") == "stop":
            return self._stop_email(request, subscriber, page)
        if refusal := cannot_add(subscriber):
            messages.error(request, f"Nothing changed: {refusal}.")
            return page
        form = email_form(request.POST)
        if not form.is_valid():
            messages.error(request, f"Nothing changed. {self._form_problem(form)}")
            return page
        try:
            outcome = add_email(request, subscriber, form.cleaned_data)
        except ConsentError as exc:
            messages.error(request, f"Nothing changed: {exc}.")
            return page
        if outcome.changed:
            messages.success(
                request,
                f"{outcome.subscriber.email}: pending; a confirmation e-mail is on its way. "
                "The address is confirmed when its owner follows the link.",
            )
        else:
            messages.info(
                request,
                f"Nothing changed: {outcome.subscriber.email} is already "
                f"{outcome.subscriber.get_email_status_display().lower()}.",
            )
        return page

    def _stop_email(
        self, request: HttpRequest, subscriber: Subscriber, page: HttpResponse
    ) -> HttpResponse:
        if not can_stop(subscriber):
            messages.error(request, "Nothing changed: there is no address e-mail goes to.")
            return page
        form = stop_form(request.POST)
        if not form.is_valid():
            messages.error(request, f"Nothing changed. {self._form_problem(form)}")
            return page
        outcome = stop_email(request, subscriber, form.cleaned_data["reason"])
        messages.success(
            request,
            f"E-mail stopped: {outcome.subscriber.email} is opted out and gets no e-mail. "
            f"The number is still {outcome.subscriber.get_consent_status_display().lower()}.",
        )
        return page

    @method_decorator(require_POST)
    def pause_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The page's Pause… / Resume buttons: the same record as the list actions."""
        subscriber = self._changeable(request, object_id)
        page = self._page(subscriber)
        offered_now = pause_buttons(subscriber, can_change=True)
        if request.POST.get("operation") == "resume" and offered_now.can_resume:
            resume_subscriber(request, subscriber)
            messages.success(request, f"{subscriber.phone}: resumed; messages start again now.")
            return page
        if request.POST.get("operation") != "pause" or offered_now.pause_form is None:
            messages.error(
                request,
                f"Nothing changed: {subscriber.phone} is "
                f"{subscriber.get_consent_status_display().lower()} and "
                f"{'paused' if offered_now.can_resume else 'not paused'}.",
            )
            return page
        form = pause_form(request.POST)
        if not form.is_valid():
            messages.error(request, f"Nothing changed. {self._form_problem(form)}")
            return page
        restart = pause_subscriber(request, subscriber, form.cleaned_data)
        if restart:
            messages.success(
                request, f"{subscriber.phone}: paused; messages start again on {restart}."
            )
        return page

    # --- list actions ------------------------------------------------------------------

    @admin.action(description="Opt out selected subscribers…", permissions=["change"])
    def opt_out(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._consent_action(request, queryset, ConsentStatus.OPTED_OUT, OptOutForm)

    @admin.action(description="Opt selected subscribers back in…", permissions=["change"])
    def opt_back_in(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._consent_action(request, queryset, ConsentStatus.OPTED_IN, OptInEvidenceForm)

    def _consent_action(
        self, request: HttpRequest, queryset: QuerySet, to_status: str, form_class: type[Form]
    ) -> HttpResponse | None:
        """The form's answers (reason, or evidence) become each event's evidence."""

        def apply(subscriber: Subscriber, data: dict[str, Any]) -> bool:
            return change_consent(request, subscriber, to_status, data)

        title = "Opt out" if to_status == ConsentStatus.OPTED_OUT else "Opt back in"
        return self._with_form(request, queryset, form_class, title, apply)

    @admin.action(description="Pause…", permissions=["change"])
    def pause_until(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        def apply(subscriber: Subscriber, data: dict[str, Any]) -> bool:
            return pause_subscriber(request, subscriber, data) is not None

        return self._with_form(request, queryset, PauseForm, "Pause…", apply)

    @admin.action(description="Resume selected subscribers", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet) -> None:
        resumed = 0
        for subscriber in queryset.filter(paused_until__isnull=False)[:MAX_ACTION_ROWS]:
            resumed += resume_subscriber(request, subscriber)
        self.message_user(request, f"Resume: {resumed} subscriber(s) resumed.", messages.SUCCESS)

    @admin.action(
        description="Erase personal data of selected subscribers…", permissions=["change"]
    )
    def erase_personal_data(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        def apply(subscriber: Subscriber, data: dict[str, Any]) -> bool:
            reference = data["request_reference"]
            evidence = admin_evidence(
                request, reason="erasure request", request_reference=reference
            )
            audit.record(
                request.user, erase(subscriber, evidence), "Erased personal data", detail=reference
            )
            return True

        return self._with_form(request, queryset, EraseForm, "Erase personal data", apply)

    @admin.action(description="Export selected subscribers to CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        response = self.export_now(request, queryset, "selected rows")
        if response is None:
            self.message_user(
                request,
                "Too many rows for a selection: use “Export” above the list, which "
                "exports every row its filters select.",
                messages.ERROR,
            )
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
                    refused.append(f"{subscriber.phone}: {exc}")
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
