"""Export from the Subscribers list: every row its filters and search select.

The list's "Export" link carries its query string to the export page. A small
set downloads at once; a larger one becomes a SubscriberExport written by a
worker, with a page that shows its progress and offers the file when done.
The worker selects the rows again through the list's own filters
(matching_subscribers), as the person who asked, so the file holds what that
list showed them.
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from import_export.admin import ExportMixin

from smsbot import audit, outbox
from smsbot.celery import BULK_QUEUE
from subscribers import exporting, task_names
from subscribers.history import when
from subscribers.importing import describe_columns
from subscribers.models import ExportState, Subscriber, SubscriberExport

# The changelist's own paging and ordering say nothing about which rows to export.
NOT_FILTERS = ("p", "o", "e")


def csv_response(text: Any, name: str, streaming: bool = False) -> HttpResponse:
    response_class = StreamingHttpResponse if streaming else HttpResponse
    response = response_class(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def file_name(moment: Any = None) -> str:
    return f"subscribers-{timezone.localtime(moment or timezone.now()):%Y%m%d-%H%M}.csv"


def filter_query(request: HttpRequest) -> str:
    params = request.GET.copy()
    for name in NOT_FILTERS:
        params.pop(name, None)
    return params.urlencode()


def describe_filters(changelist: Any) -> str:
    """'Channel: WhatsApp; search: 0123', or '' when the list is unfiltered."""
    described = []
    for spec in changelist.filter_specs:
        if not getattr(spec, "used_parameters", None):
            continue
        chosen = [str(c["display"]) for c in spec.choices(changelist) if c.get("selected")]
        described.append(f"{str(spec.title).capitalize()}: {', '.join(chosen)}")
    if changelist.query:
        described.append(f"search: {changelist.query}")
    return "; ".join(described)


def matching_subscribers(export: SubscriberExport) -> QuerySet:
    """The rows the export's list selected, through that list's own filters and search."""
    if export.requested_by is None:
        raise PermissionDenied("the user who asked for this export no longer exists")
    request = HttpRequest()
    request.method = "GET"
    request.GET = QueryDict(export.query)
    request.user = export.requested_by
    model_admin = admin.site.get_model_admin(Subscriber)
    if not model_admin.has_export_permission(request):
        raise PermissionDenied(f"{request.user} may no longer export subscribers")
    return model_admin.get_changelist_instance(request).queryset


class SubscriberExportMixin(ExportMixin):
    """django-import-export's export URL and permission in the list, our own flow."""

    export_template_name = "admin/subscribers/subscriber/export.html"

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "exports/<int:export_id>/",
                view(self.export_job_view),
                name="subscribers_subscriber_export_job",
            ),
            path(
                "exports/<int:export_id>/status/",
                view(self.export_status_view),
                name="subscribers_subscriber_export_status",
            ),
            path(
                "exports/<int:export_id>/download/",
                view(self.export_download_view),
                name="subscribers_subscriber_export_download",
            ),
            *super().get_urls(),
        ]

    def export_action(self, request: HttpRequest) -> HttpResponse:
        """GET: what would be exported; POST: export it (now, or by a worker)."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        changelist_url = reverse("admin:subscribers_subscriber_changelist")
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            messages.error(request, "The list's filters are not valid; nothing exported.")
            return HttpResponseRedirect(changelist_url)
        query = filter_query(request)
        filters = describe_filters(changelist)
        if request.method == "POST":
            return self._start_export(request, changelist.queryset, query, filters)
        context = {
            **self.admin_site.each_context(request),
            "title": "Export subscribers",
            "opts": self.opts,
            "filters": filters,
            "count": changelist.result_count,
            "inline_rows": exporting.INLINE_ROWS,
            "columns": describe_columns(),
            "list_url": changelist_url + (f"?{query}" if query else ""),
            "keep_hours": int(exporting.KEEP_FOR.total_seconds() // 3600),
        }
        return TemplateResponse(request, self.export_template_name, context)

    def export_now(
        self, request: HttpRequest, queryset: QuerySet, which: str
    ) -> HttpResponse | None:
        """The file as the response when the set is small, else None."""
        small = exporting.small_export(queryset)
        if small is None:
            return None
        text, rows = small
        audit.record_for_model(request.user, Subscriber, "Exported", detail=f"{rows} rows, {which}")
        return csv_response(text, file_name())

    def _start_export(
        self, request: HttpRequest, queryset: QuerySet, query: str, filters: str
    ) -> HttpResponse:
        which = f"filters: {filters or 'none'}"
        response = self.export_now(request, queryset, which)
        if response is not None:
            return response
        exporting.prune()
        with transaction.atomic():
            export = SubscriberExport.objects.create(
                requested_by=request.user, query=query, description=filters
            )
            outbox.enqueue(task_names.EXPORT_SUBSCRIBERS, export.pk, queue=BULK_QUEUE)
            audit.record_for_model(
                request.user, Subscriber, "Exported", detail=f"export #{export.pk}, {which}"
            )
        return HttpResponseRedirect(
            reverse("admin:subscribers_subscriber_export_job", args=[export.pk])
        )

    def _own_export(self, request: HttpRequest, export_id: int) -> SubscriberExport:
        """The export, if this user asked for it (a file of numbers is not for everyone)."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        export = SubscriberExport.objects.filter(pk=export_id).first()
        if export is None or (
            export.requested_by_id != request.user.pk and not request.user.is_superuser
        ):
            raise Http404("No such export (exports are kept for a day).")
        return export

    def export_job_view(self, request: HttpRequest, export_id: int) -> HttpResponse:
        export = self._own_export(request, export_id)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Export #{export.pk}",
            "opts": self.opts,
            "export": export,
            "status": export_status(export),
            "status_url": reverse("admin:subscribers_subscriber_export_status", args=[export.pk]),
            "list_url": reverse("admin:subscribers_subscriber_changelist")
            + (f"?{export.query}" if export.query else ""),
            "asked": when(export.created_at),
        }
        return TemplateResponse(request, "admin/subscribers/subscriber/export_job.html", context)

    def export_status_view(self, request: HttpRequest, export_id: int) -> JsonResponse:
        return JsonResponse(export_status(self._own_export(request, export_id)))

    def export_download_view(self, request: HttpRequest, export_id: int) -> HttpResponse:
        export = self._own_export(request, export_id)
        if export.state != ExportState.DONE:
            raise Http404("This export is not finished.")
        return csv_response(exporting.file_text(export), file_name(export.created_at), True)


def export_status(export: SubscriberExport) -> dict[str, Any]:
    """What the progress page shows, and what its script polls."""
    total = export.total
    percent = 100 if export.state == ExportState.DONE else 0
    if total and export.state != ExportState.DONE:
        percent = min(99, export.done * 100 // total)
    done = export.state == ExportState.DONE
    return {
        "state": export.state,
        "label": export.get_state_display(),
        "done": export.done,
        "total": total,
        "percent": percent,
        "error": export.error,
        "download_url": reverse("admin:subscribers_subscriber_export_download", args=[export.pk])
        if done
        else "",
        "finished": when(export.finished_at) if export.finished_at else "",
    }
