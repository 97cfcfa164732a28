"""GuardedImportsMixin: the preview and confirmation of every import in the admin.

PortalAdminSite mixes it into each django-import-export ImportMixin admin that
does not already name it, in front of the admin's own class; an admin that
overrides one of its hooks (preview_notes) names it among its bases instead.
Over the library's flow it changes:

- the preview checks the file first (smsbot.imports.checks), stores it in the
  private directory under a name of the server's, and hands the page a signed
  token (smsbot.imports.tokens) instead of the library's import_file_name;
- a file of more than IMPORT_INLINE_ROWS rows is previewed by a worker
  (smsbot.imports.previews), on a page that shows its progress;
- the confirmation takes only that token, and imports the file once.

Only CSV is offered: it is the one format the portal's files are written in.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from import_export.formats.base_formats import CSV
from import_export.forms import ConfirmImportForm

from smsbot.imports import checks, files, previews, tokens
from smsbot.imports.problems import problems
from smsbot.imports.rows import rows_table
from smsbot.imports.tokens import StoredUpload
from smsbot.models import ImportPreview, ImportPreviewState

ALLOWED_FORMATS = (CSV,)
GONE = "This preview has been imported already or has expired. Upload the file again."


class ImportTokenForm(forms.Form):
    """The confirmation: the token of the preview, nothing the browser could steer."""

    import_token = forms.CharField(widget=forms.HiddenInput())


def trusted_form(upload: StoredUpload) -> ConfirmImportForm:
    """The library's confirmation form, filled from a token the portal signed."""
    form = ConfirmImportForm(
        data={
            "import_file_name": upload.stored_name,
            "original_file_name": upload.original_name,
            "format": str(upload.format),
            "resource": str(upload.resource),
        }
    )
    form.is_valid()
    return form


class GuardedImportsMixin:
    # import-export's page, with the portal's preview table and problem list.
    import_template_name = "admin/import_export/checked_import.html"

    def import_label(self) -> str:
        opts = self.opts  # type: ignore[attr-defined]
        return f"{opts.app_label}.{opts.model_name}"

    def _url(self, name: str, *args: Any) -> str:
        opts = self.opts  # type: ignore[attr-defined]
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=args)

    def get_import_formats(self) -> list[type]:
        return [f for f in super().get_import_formats() if f in ALLOWED_FORMATS]  # type: ignore[misc]

    def get_urls(self) -> list:
        opts = self.opts  # type: ignore[attr-defined]
        view = self.admin_site.admin_view  # type: ignore[attr-defined]
        prefix = f"{opts.app_label}_{opts.model_name}"
        return [
            path(
                "import/previews/<int:preview_id>/",
                view(self.import_preview_view),
                name=f"{prefix}_import_preview",
            ),
            path(
                "import/previews/<int:preview_id>/status/",
                view(self.import_preview_status_view),
                name=f"{prefix}_import_preview_status",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    # --- the dry run, in the request or in a worker ---------------------------------

    def _format(self, index: int) -> Any:
        formats = self.get_import_formats()
        if not 0 <= index < len(formats):
            raise checks.ImportRefused("Choose the file's format.")
        input_format = formats[index]()
        input_format.encoding = checks.ENCODING
        return input_format

    def _resource(self, request: HttpRequest, form: forms.Form) -> Any:
        try:
            resource_class = self.choose_import_resource_class(form, request)  # type: ignore[attr-defined]
        except IndexError as exc:
            raise checks.ImportRefused("Choose what the file holds.") from exc
        return resource_class(**self.get_import_resource_kwargs(request, form=form))  # type: ignore[attr-defined]

    def dry_run(
        self, request: HttpRequest, upload: StoredUpload, data: bytes, progress: Any = None
    ) -> tuple[Any, Any]:
        """(import-export's result, the dataset) of importing the file without writing."""
        form = trusted_form(upload)
        resource = self._resource(request, form)
        dataset = checks.read(data, self._format(upload.format), resource)
        if progress is not None:
            import_row = resource.import_row

            def counted(row: Any, instance_loader: Any, **kwargs: Any) -> Any:
                outcome = import_row(row, instance_loader, **kwargs)
                progress(kwargs.get("row_number") or 0)
                return outcome

            resource.import_row = counted
        result = resource.import_data(
            dataset,
            dry_run=True,
            raise_errors=False,
            file_name=upload.original_name,
            user=request.user,
            **self.get_import_data_kwargs(request=request, form=form),  # type: ignore[attr-defined]
        )
        return result, dataset

    def preview_notes(self, result: Any) -> list[str]:
        """Sentences a finished preview adds to its counts; an import admin may say more."""
        return []

    def preview_summary(
        self, request: HttpRequest, upload: StoredUpload, data: bytes, progress: Any
    ) -> dict[str, Any]:
        result, dataset = self.dry_run(request, upload, data, progress)
        return previews.summary(result, problems(result, dataset), self.preview_notes(result))

    def confirm_form_for(self, request: HttpRequest, upload: StoredUpload) -> ImportTokenForm:
        token = tokens.issue(upload, request.user.pk, self.import_label())
        return ImportTokenForm(initial={"import_token": token})

    # --- the pages -------------------------------------------------------------------

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if not self.has_import_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        form = self.create_import_form(request)  # type: ignore[attr-defined]
        context = self.get_import_context_data()  # type: ignore[attr-defined]
        if request.method == "POST" and form.is_valid():
            try:
                outcome = self._preview_upload(request, form)
            except checks.ImportRefused as exc:
                form.add_error("import_file", str(exc))
            else:
                if isinstance(outcome, HttpResponse):
                    return outcome
                context.update(outcome)
        resources = [
            resource_class(**self.get_import_resource_kwargs(request=request, form=form))  # type: ignore[attr-defined]
            for resource_class in self.get_import_resource_classes(request)  # type: ignore[attr-defined]
        ]
        context.update(self.admin_site.each_context(request))  # type: ignore[attr-defined]
        context.update(
            {
                "title": "Import",
                "form": form,
                "opts": self.opts,  # type: ignore[attr-defined]
                "media": self.media + form.media,  # type: ignore[attr-defined]
                "fields_list": [
                    (r.get_display_name(), [f.column_name for f in r.get_user_visible_fields()])
                    for r in resources
                ],
                "import_error_display": self.import_error_display,  # type: ignore[attr-defined]
                "max_bytes": settings.IMPORT_MAX_BYTES,
                "max_rows": settings.IMPORT_MAX_ROWS,
            }
        )
        request.current_app = self.admin_site.name  # type: ignore[attr-defined]
        return TemplateResponse(request, [self.import_template_name], context)  # type: ignore[attr-defined]

    def _preview_upload(self, request: HttpRequest, form: forms.Form) -> HttpResponse | dict:
        upload_file = form.cleaned_data["import_file"]
        checks.check_size(upload_file.size)
        data = b"".join(upload_file.chunks())
        format_index = int(form.cleaned_data["format"])
        resource_index = self.get_resource_index(form)  # type: ignore[attr-defined]
        rows = len(checks.read(data, self._format(format_index), self._resource(request, form)))
        upload = StoredUpload(files.save(data), upload_file.name, format_index, resource_index)
        if previews.is_large(rows):
            previews.prune()
            preview = previews.start(request.user, self.import_label(), upload, data, rows)
            return HttpResponseRedirect(self._url("import_preview", preview.pk))
        result, dataset = self.dry_run(request, upload, data)
        if result.has_errors() or result.has_validation_errors():
            files.remove(upload.stored_name)  # no confirmation will come for it
            return {"result": result, "problems": problems(result, dataset)}
        return {
            "result": result,
            "rows_table": rows_table(result, dataset),
            "confirm_form": self.confirm_form_for(request, upload),
            "original_file_name": upload.original_name,
        }

    @method_decorator(require_POST)
    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if not self.has_import_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        try:
            upload = tokens.redeem(
                request.POST.get("import_token", ""), request.user.pk, self.import_label()
            )
            data = files.take(upload.stored_name)
            form = trusted_form(upload)
            dataset = checks.read(data, self._format(upload.format), self._resource(request, form))
        except (tokens.ImportTokenRefused, checks.ImportRefused) as exc:
            return self._refuse(request, str(exc))
        except files.ImportFileMissing:
            return self._refuse(request, GONE)
        result = self.process_dataset(dataset, form, request, **kwargs)  # type: ignore[attr-defined]
        if not getattr(result, "file_name", ""):
            result.file_name = upload.original_name
        return self.process_result(result, request)  # type: ignore[attr-defined]

    def _refuse(self, request: HttpRequest, reason: str) -> HttpResponse:
        messages.error(request, f"Nothing imported. {reason}")
        return HttpResponseRedirect(self._url("import"))

    # --- a large file's preview --------------------------------------------------------

    def _own_preview(self, request: HttpRequest, preview_id: int) -> ImportPreview:
        if not self.has_import_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        preview = ImportPreview.objects.filter(
            pk=preview_id, requested_by=request.user.pk, admin=self.import_label()
        ).first()
        if preview is None:
            raise Http404("No such preview (previews are kept for a short while).")
        return preview

    def preview_status(self, preview: ImportPreview) -> dict[str, Any]:
        done = previews.rows_done(preview)
        finished = preview.state in (ImportPreviewState.DONE, ImportPreviewState.FAILED)
        return {
            "state": preview.state,
            "label": preview.get_state_display(),
            "done": done,
            "total": preview.total,
            "percent": 100 if finished else min(99, done * 100 // max(preview.total, 1)),
            "error": preview.error,
        }

    def import_preview_status_view(self, request: HttpRequest, preview_id: int) -> JsonResponse:
        return JsonResponse(self.preview_status(self._own_preview(request, preview_id)))

    def import_preview_view(self, request: HttpRequest, preview_id: int) -> HttpResponse:
        preview = self._own_preview(request, preview_id)
        summary = preview.summary
        ready = preview.state == ImportPreviewState.DONE and not summary.get("problems")
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": f"Import preview #{preview.pk}",
            "opts": self.opts,  # type: ignore[attr-defined]
            "preview": preview,
            "status": self.preview_status(preview),
            "status_url": self._url("import_preview_status", preview.pk),
            "summary": summary,
            "confirm_form": self.confirm_form_for(request, previews.upload_of(preview))
            if ready
            else None,
            "import_url": self._url("import"),
        }
        return TemplateResponse(request, "admin/import_export/import_preview.html", context)
