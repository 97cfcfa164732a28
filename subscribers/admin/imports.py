"""Subscribers › Import: django-import-export's preview and confirm, made for operators.

The page names every column of the file with an example and offers a template
to fill in; row errors are a table on the page; the preview says how many
confirmation messages pending rows will send and what they cost. A file is
imported whole or not at all, at the preview and again at the confirmation.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV
from import_export.results import Result

from smsbot.audit import AuditedImportsMixin
from smsbot.imports.admin import GuardedImportsMixin
from subscribers.importing import describe_columns, template_csv

TEMPLATE_NAME = "subscribers-template.csv"


class SubscriberImportMixin(AuditedImportsMixin, GuardedImportsMixin, ImportMixin):
    import_template_name = "admin/subscribers/subscriber/import.html"
    # import-export logs each row against the resource's own instance, which
    # consent.change never saves (no object id): one audit entry per file instead,
    # and each number's consent event names the file, the row and who imported it.
    skip_admin_log = True

    def get_import_formats(self) -> list[type]:
        return [CSV]

    def get_urls(self) -> list:
        return [
            path(
                "import/template.csv",
                self.admin_site.admin_view(self.import_template_view),
                name="subscribers_subscriber_import_template",
            ),
            *super().get_urls(),
        ]

    def get_import_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            "columns": describe_columns(),
            "template_url": reverse("admin:subscribers_subscriber_import_template"),
            "template_name": TEMPLATE_NAME,
        }

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        # All or nothing at the confirmation too: a row that became invalid since
        # the preview (the number opted out meanwhile) stops the whole file.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}

    def import_template_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{TEMPLATE_NAME}"'
        return response

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponse:
        if result.has_errors() or result.has_validation_errors():
            messages.error(
                request,
                "Nothing imported: the file no longer passes its checks "
                "(its numbers changed since the preview). Upload it again to see why.",
            )
            return HttpResponseRedirect(reverse("admin:subscribers_subscriber_import"))
        return super().process_result(result, request)

    def preview_notes(self, result: Result) -> list[str]:
        return [str(result.confirmations)]

    def import_summary(self, result: Result, request: HttpRequest) -> str:
        totals = result.totals
        return (
            f"{getattr(result, 'file_name', '') or 'a file'}: {totals['new']} new, "
            f"{totals['update']} updated, {totals['skip']} unchanged; "
            f"{result.confirmations.count} confirmation messages"
        )

    def add_success_message(self, result: Result, request: HttpRequest) -> None:
        totals = result.totals
        messages.success(
            request,
            f"Import finished: {totals['new']} new, {totals['update']} updated, "
            f"{totals['skip']} unchanged. {result.confirmations}",
        )
