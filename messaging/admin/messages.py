"""The message log: messages, delivery events and provider calls, read-only.

Also the cost report and the retry confirmation, as extra URLs of the message
admin. Lists stay fast on a million rows: filters on indexed columns, no
full COUNT(*), search by exact (normalised) number.
"""

import json
from collections.abc import Iterator
from datetime import date, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator, capfirst

from messaging import outcomes
from messaging.admin import consent_proof
from messaging.delivery import error_codes
from messaging.models import Broadcast, DeliveryEvent, Message, Provider, ProviderCall
from messaging.outbound import retry as retrying
from messaging.reports import costs, figures, rollups
from smsbot import audit, csv_safe, timezones
from smsbot.admin_base import ReadOnlyAdmin
from smsbot.admin_filters import ChoicesInFilter, DateRangeFilter
from smsbot.admin_inputs import BoundedDateField
from smsbot.redaction import redact_data
from subscribers.admin.search import PhoneSearchMixin

NO_CODE = "none"
# One confirmation page retries at most this many messages.
BULK_RETRY_LIMIT = 500
# The message list's text column: enough to recognise a message.
TEXT_CHARS = 48
# The broadcasts the message list's sidebar offers (and the one its URL selects).
RECENT_BROADCASTS = 10
# The message list's "via" column on one line: the provider as operators call it
# (the full name, e.g. "Console (records only)", is on the message's page).
PROVIDER_SHORT = {
    Provider.SNS: "SNS",
    Provider.AWS_SMS: "AWS SMS",
    Provider.TWILIO: "Twilio",
    Provider.CONSOLE: "Console",
}


def redacted_json(data: Any) -> SafeString:
    """Pretty JSON with secrets and phone numbers masked, whatever was stored."""
    text = json.dumps(redact_data(data), indent=2, sort_keys=True, default=str)
    return format_html('<pre class="ops-json">{}</pre>', text)


class OutcomeFilter(admin.SimpleListFilter):
    """The outcome buckets every screen counts (messaging.outcomes), so a figure's link
    lists exactly the messages it counted."""

    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return list(outcomes.BUCKETS)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        if value not in outcomes.LABELS:
            # A hand-made URL: say so by showing nothing rather than everything.
            messages.warning(request, f"Unknown outcome “{value}”: choose one of the list.")
            return queryset.none()
        return queryset.filter(outcomes.bucket_q(value))


class BroadcastFilter(admin.SimpleListFilter):
    """The broadcast a list was opened from (its page and the dashboard link here with
    ?broadcast__id__exact=N), shown by name, among the most recent broadcasts."""

    title = "broadcast"
    parameter_name = "broadcast__id__exact"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        recent = Broadcast.objects.order_by("-created_at", "-id")[:RECENT_BROADCASTS]
        choices = [(str(b.pk), str(b)) for b in recent]
        chosen = self.value()
        if chosen and chosen.isdigit() and chosen not in dict(choices):
            # An older broadcast: still named, first, as the one the list shows.
            older = Broadcast.objects.filter(pk=chosen).first()
            choices.insert(0, (chosen, str(older) if older else f"No broadcast #{chosen}"))
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            messages.warning(request, f"No broadcast “{value}”: choose one of the list.")
            return queryset.none()
        return queryset.filter(broadcast_id=int(value))


class ErrorCodeFilter(admin.SimpleListFilter):
    """Known error codes with their meaning, as one dropdown grouped by who reports them.

    A list of every code would be longer than the page; any other code works
    through the URL (?error_code=...).
    """

    title = "error code"
    parameter_name = "error_code"
    template = "admin/messaging/message/dropdown_filter.html"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        known = [(c.code, f"{c.code} – {c.meaning}") for c in error_codes.CODES.values()]
        return [(NO_CODE, "No error code"), *known]

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:
        for choice, (code, _) in zip(
            super().choices(changelist), [("", ""), *self.lookup_choices], strict=True
        ):
            yield {**choice, "group": error_codes.REPORTED_BY.get(code, "")}

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(error_code="" if value == NO_CODE else value)


@admin.register(Message)
class MessageAdmin(PhoneSearchMixin, ReadOnlyAdmin):
    # Chosen to fit a laptop's 1440 px beside the filters: the kind says the direction,
    # one column says provider and channel, the text is shortened.
    list_display = [
        "id",
        "created_at",
        "kind",
        "route",
        "phone",
        "text",
        "status_display",
        "error",
        "segments_display",
        "cost_display",
    ]
    list_filter = [
        OutcomeFilter,
        BroadcastFilter,
        ("status", ChoicesInFilter),
        "provider",
        "channel",
        "fallback",
        ("created_at", DateRangeFilter),
        ErrorCodeFilter,
        "direction",
        "kind",
    ]
    search_fields = ["=phone", "=provider_message_id"]
    search_help_text = "A phone number in any format, or a provider message id."
    list_per_page = 50
    list_select_related = ["broadcast"]  # a queued message of a paused broadcast is held
    fieldsets = [
        (
            "Message",
            {
                "fields": [
                    "direction",
                    "kind",
                    "channel",
                    "provider",
                    "phone",
                    "our_number",  # the number texted (an inbound), carried to its reply
                    "subscriber",
                    "broadcast",
                    "test_of",
                    "in_reply_to",
                    "body",
                    "content_sid",
                    "content_variables",
                ]
            },
        ),
        (
            "Status",
            {
                "fields": [
                    "status_display",  # a held one says until when and why, as the list
                    "attempts",
                    "error_code",
                    "error_meaning",
                    "error_message",
                    "provider_message_id",
                    "created_at",
                    "sent_at",
                    "delivered_at",
                    "next_attempt_at",
                ]
            },
        ),
        (
            "Cost",
            {
                "fields": [
                    "segments",
                    "encoding",
                    "price_estimated",
                    "price_actual",
                    "price_unit",
                    "cost_comparison",
                ]
            },
        ),
        ("Provider calls", {"fields": ["provider_calls_display"]}),
        ("Delivery events", {"fields": ["delivery_events_display"]}),
    ]
    readonly_fields = [
        "status_display",
        "error_meaning",
        "cost_comparison",
        "provider_calls_display",
        "delivery_events_display",
        "created_at",
    ]

    actions = ["retry_selected"]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return can_retry(request)

    @admin.action(description="Retry selected messages…", permissions=["retry"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        chosen = list(queryset.select_related("subscriber")[:BULK_RETRY_LIMIT])
        if request.POST.get("confirmed"):
            confirmed = bool(request.POST.get("confirm_not_sent"))
            retried, refused = retrying.retry_many(
                [m.pk for m in chosen], confirmed_not_sent=confirmed
            )
            not_retried = {pk for pk, _ in refused}
            for m in chosen:
                if m.pk not in not_retried:
                    record_retry(request, m, confirmed)
            self.message_user(request, f"{retried} message(s) queued to be sent again.")
            if refused:
                details = "; ".join(f"{pk}: {why}" for pk, why in refused[:20])
                self.message_user(
                    request, f"{len(refused)} not retried — {details}", messages.WARNING
                )
            return None
        rows = [(m, retrying.refusal(m)) for m in chosen]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Retry the selected messages?",
            "rows": rows,
            "retryable": sum(1 for _, why in rows if why is None),
            "needs_review": any(m.status == "needs_review" and why is None for m, why in rows),
            "limited": len(chosen) == BULK_RETRY_LIMIT,
            "limit": BULK_RETRY_LIMIT,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/messaging/message/retry_selected.html", context)

    def search_other(self, queryset: QuerySet, term: str) -> QuerySet:
        return queryset.filter(provider_message_id=term)

    @admin.display(description="via", ordering="provider")
    def route(self, obj: Message) -> str:
        provider = PROVIDER_SHORT.get(obj.provider) or obj.get_provider_display()
        return f"{provider} {obj.get_channel_display()}"

    @admin.display(description="text")
    def text(self, obj: Message) -> str:
        if obj.body:
            return Truncator(obj.body).chars(TEXT_CHARS)
        if obj.content_sid:
            return f"WhatsApp template {obj.content_sid}"
        return "—"

    @admin.display(description="status", ordering="status")
    def status_display(self, obj: Message) -> str:
        """Its status; a held one says until when and why, as its broadcast's page does."""
        hold = outcomes.hold_of(obj)
        return capfirst(hold.words()) if hold else obj.get_status_display()

    @admin.display(description="error", ordering="error_code")
    def error(self, obj: Message) -> SafeString | str:
        if not obj.error_code:
            return ""
        meaning = error_codes.meaning(obj.error_code) or "Unknown code"
        return format_html('<abbr title="{}">{}</abbr>', meaning, obj.error_code)

    @admin.display(description="segments", ordering="segments")
    def segments_display(self, obj: Message) -> int:
        return obj.segments

    @admin.display(description="cost (USD)")
    def cost_display(self, obj: Message) -> str:
        return f"{obj.cost:.4f}"

    @admin.display(description="error meaning")
    def error_meaning(self, obj: Message) -> str:
        return error_codes.meaning(obj.error_code) or "—"

    @admin.display(description="estimate vs actual")
    def cost_comparison(self, obj: Message) -> str:
        if obj.price_actual is None:
            return f"Estimated {obj.price_estimated:.5f} USD; no actual price reported yet."
        delta = obj.price_actual - obj.price_estimated
        return (
            f"Estimated {obj.price_estimated:.5f}, actual {obj.price_actual:.5f} "
            f"{obj.price_unit} (difference {delta:+.5f})."
        )

    @admin.display(description="calls (secrets redacted)")
    def provider_calls_display(self, obj: Message) -> SafeString | str:
        calls = obj.provider_calls.order_by("created_at", "id")
        if not calls:
            return "No provider call recorded."
        return format_html_join(
            "",
            "<div class='ops-call'><p><strong>{} {}</strong> at {} — {} (HTTP {}, {} ms)</p>"
            "<p>Request</p>{}<p>Response</p>{}</div>",
            (
                (
                    c.get_provider_display(),
                    c.operation,
                    timezones.shown(c.created_at),
                    c.outcome,
                    c.http_status or "—",
                    c.duration_ms,
                    redacted_json(c.request),
                    redacted_json(c.response),
                )
                for c in calls
            ),
        )

    @admin.display(description="events")
    def delivery_events_display(self, obj: Message) -> SafeString | str:
        events = obj.delivery_events.order_by("received_at", "id")
        if not events:
            return "No delivery report received."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    timezones.shown(e.received_at),
                    e.status,
                    e.error_code or "—",
                    error_codes.meaning(e.error_code) or "—",
                    e.price if e.price is not None else "—",
                )
                for e in events
            ),
        )
        return format_html(
            "<table><thead><tr><th>Received</th><th>Status</th><th>Error</th>"
            "<th>Meaning</th><th>Price</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    class Media:
        js = ["smsbot/filters.js"]
        css = {"all": ["smsbot/ops.css"]}

    # --- extra pages: retry and the cost report -------------------------------------
    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("costs/", view(self.cost_report_view), name="messaging_message_costs"),
            path(
                "consent-proof/<int:subscriber_id>/",
                view(partial(consent_proof.proof_view, self)),
                name="messaging_message_consent_proof",
            ),
            path("<int:pk>/retry/", view(self.retry_view), name="messaging_message_retry"),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        message = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if message is not None and can_retry(request):
            extra["retry_refusal"] = retrying.refusal(message)
            extra["retry_url"] = reverse("admin:messaging_message_retry", args=[message.pk])
        return super().change_view(request, object_id, form_url, extra)

    def retry_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not can_retry(request):
            raise PermissionDenied
        message = get_object_or_404(Message, pk=pk)
        change_url = reverse("admin:messaging_message_change", args=[pk])
        reason = retrying.refusal(message)
        error = ""
        if request.method == "POST" and reason is None:
            confirmed = bool(request.POST.get("confirm_not_sent"))
            if message.status == "needs_review" and not confirmed:
                error = "Tick the box to confirm the provider did not send this message."
            else:
                try:
                    retrying.retry(message.pk, confirmed_not_sent=confirmed)
                except retrying.RetryRefused as exc:
                    messages.error(request, f"Not retried: {exc}")
                else:
                    record_retry(request, message, confirmed)
                    messages.success(request, f"Message {pk} queued to be sent again.")
                return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Retry message {pk}?",
            "message_obj": message,
            "refusal": reason,
            "needs_review": message.status == "needs_review",
            "error": error,
            "change_url": change_url,
            "error_meaning": error_codes.meaning(message.error_code),
        }
        return TemplateResponse(request, "admin/messaging/message/retry_confirmation.html", context)

    def cost_report_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = rollups.today()
        chosen = "start" in request.GET or "end" in request.GET
        form = CostRangeForm(request.GET if chosen else None, today=today)
        refused = chosen and not form.is_valid()
        start, last = form.range() if chosen and not refused else costs.default_range(today)
        if request.GET.get("format") == "csv":
            if refused:
                return HttpResponseBadRequest("; ".join(form.error_sentences()))
            return cost_report_csv(figures.cost_report(start, last + timedelta(days=1)))
        query = urlencode({"start": start, "end": last})
        context = {
            **self.admin_site.each_context(request),
            **costs.build(start, last),
            "opts": self.opts,
            "title": "Cost report",
            "form": form,
            "presets": [
                (p, f"?{urlencode({'start': p.start, 'end': p.last})}")
                for p in costs.presets(today)
            ],
            "csv_url": f"{request.path}?{query}&format=csv",
        }
        # A wrong range shows its error above this month's report, as any admin form does.
        return TemplateResponse(request, "admin/messaging/message/cost_report.html", context)


class CostRangeForm(forms.Form):
    """The cost report's days, first and last included (UTC days)."""

    start = BoundedDateField(label="From", widget=timezones.DateInput())
    end = BoundedDateField(label="To", widget=timezones.DateInput())

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        start, last = costs.default_range(today)
        self.fields["start"].initial, self.fields["end"].initial = start, last

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError("The first day must not come after the last day.")
        return data

    def range(self) -> tuple[date, date]:
        return self.cleaned_data["start"], self.cleaned_data["end"]

    def error_sentences(self) -> list[str]:
        return [
            f"{self.fields[name].label if name in self.fields else 'range'}: {message}"
            for name, messages_ in self.errors.items()
            for message in messages_
        ]


def record_retry(request: HttpRequest, message: Message, confirmed_not_sent: bool) -> None:
    audit.record(
        request.user,
        message,
        "Retried",
        changes={"status": (message.status, "queued")},
        detail="operator confirmed the provider did not send it" if confirmed_not_sent else "",
    )


def can_retry(request: HttpRequest) -> bool:
    # Operations Managers read the log; changing a message needs the change permission.
    return request.user.has_perm("messaging.change_message")


COST_COLUMNS = [
    "month",
    "provider",
    "channel",
    "messages",
    "segments",
    "estimated_usd",
    "actual_usd",
    "priced_messages",
    "estimated_of_priced_usd",
    "actual_minus_estimate_usd",
    "cost_usd",
]


def cost_report_csv(rows: list[figures.CostRow]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="cost-report.csv"'
    writer = csv_safe.writer(response)
    writer.writerow(COST_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                f"{r.month:%Y-%m}",
                r.provider,
                r.channel,
                r.messages,
                r.segments,
                r.estimated,
                r.actual,
                r.priced,
                r.estimated_priced,
                r.difference,
                r.cost,
            ]
        )
    return response


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "status", "error_code"]
    list_filter = ["provider", "status"]
    exclude = ["payload"]
    readonly_fields = ["payload_redacted"]

    @admin.display(description="payload (secrets redacted)")
    def payload_redacted(self, obj: DeliveryEvent) -> SafeString:
        return redacted_json(obj.payload)


@admin.register(ProviderCall)
class ProviderCallAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "provider", "operation", "outcome", "duration_ms"]
    list_filter = ["provider", "outcome"]
    exclude = ["request", "response"]
    readonly_fields = ["request_redacted", "response_redacted"]

    @admin.display(description="request (secrets redacted)")
    def request_redacted(self, obj: ProviderCall) -> SafeString:
        return redacted_json(obj.request)

    @admin.display(description="response (secrets redacted)")
    def response_redacted(self, obj: ProviderCall) -> SafeString:
        return redacted_json(obj.response)
