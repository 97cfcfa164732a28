"""The message log: messages, delivery events and provider calls, read-only.

Also the cost report and the retry confirmation, as extra URLs of the message
admin. Lists stay fast on a million rows: filters on indexed columns, no
full COUNT(*), search by exact (normalised) number.
"""

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from messaging.delivery import error_codes
from messaging.models import DeliveryEvent, Message, ProviderCall
from messaging.outbound import retry as retrying
from messaging.reports import figures as reports
from smsbot import audit, csv_safe
from smsbot.admin_base import ReadOnlyAdmin
from smsbot.redaction import redact_data
from subscribers.admin.search import PhoneSearchMixin

NO_CODE = "none"
# One confirmation page retries at most this many messages.
BULK_RETRY_LIMIT = 500


def redacted_json(data: Any) -> SafeString:
    """Pretty JSON with secrets and phone numbers masked, whatever was stored."""
    text = json.dumps(redact_data(data), indent=2, sort_keys=True, default=str)
    return format_html('<pre class="ops-json">{}</pre>', text)


class ErrorCodeFilter(admin.SimpleListFilter):
    """Known provider codes with their meaning; any other code works through the URL."""

    title = "error code"
    parameter_name = "error_code"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        known = [(c.code, f"{c.code} – {c.meaning}") for c in error_codes.TWILIO_CODES.values()]
        return [(NO_CODE, "No error code"), *known]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(error_code="" if value == NO_CODE else value)


@admin.register(Message)
class MessageAdmin(PhoneSearchMixin, ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "direction",
        "kind",
        "channel",
        "provider",
        "phone",
        "status",
        "error_code",
        "segments",
        "cost_display",
    ]
    list_filter = [
        "status",
        "provider",
        "channel",
        ("created_at", admin.DateFieldListFilter),
        ErrorCodeFilter,
        "direction",
        "kind",
    ]
    search_fields = ["=phone", "=provider_message_id"]
    search_help_text = "A phone number in any format, or a provider message id."
    list_per_page = 50
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
                    "status",
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
                    c.provider,
                    c.operation,
                    c.created_at,
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
                    e.received_at,
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

    # --- extra pages: retry, cost report ------------------------------------------
    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("costs/", view(self.cost_report_view), name="messaging_message_costs"),
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
        rows = reports.cost_report()
        if request.GET.get("format") == "csv":
            return cost_report_csv(rows)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Cost report",
            "rows": rows,
            "csv_url": f"{request.path}?format=csv",
        }
        return TemplateResponse(request, "admin/messaging/message/cost_report.html", context)


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


def cost_report_csv(rows: list[reports.CostRow]) -> HttpResponse:
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
