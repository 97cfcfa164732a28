"""A large import file previewed by a worker, with progress, like the subscriber export.

The web process stores the file (smsbot.imports.files) and an ImportPreview
holding a copy of it, and queues smsbot.preview_import on the bulk queue; the
worker runs the admin's own dry run as the person who uploaded it. The dry run
happens inside a transaction that is rolled back, so progress is counted in
the cache, which every process shares, not in the database.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from smsbot import outbox
from smsbot.celery import BULK_QUEUE
from smsbot.imports.tokens import StoredUpload
from smsbot.models import ImportPreview, ImportPreviewState

log = logging.getLogger(__name__)

PREVIEW_IMPORT = "smsbot.preview_import"
# Rows between two progress counts written to the cache.
PROGRESS_EVERY = 100
# The problems a finished preview lists; the rest are counted.
PROBLEMS_SHOWN = 100


def is_large(rows: int) -> bool:
    return rows > settings.IMPORT_INLINE_ROWS


def start(
    user: Any, admin_label: str, upload: StoredUpload, data: bytes, rows: int
) -> ImportPreview:
    with transaction.atomic():
        preview = ImportPreview.objects.create(
            requested_by=user,
            admin=admin_label,
            stored_name=upload.stored_name,
            original_name=upload.original_name[:255],
            format=upload.format,
            resource=upload.resource,
            data=data,
            total=rows,
        )
        outbox.enqueue(PREVIEW_IMPORT, preview.pk, queue=BULK_QUEUE)
    return preview


def upload_of(preview: ImportPreview) -> StoredUpload:
    return StoredUpload(
        preview.stored_name, preview.original_name, preview.format, preview.resource
    )


def _progress_key(preview_id: int) -> str:
    return f"smsbot:import-preview:{preview_id}:done"


def rows_done(preview: ImportPreview) -> int:
    if preview.state == ImportPreviewState.DONE:
        return preview.total
    return int(cache.get(_progress_key(preview.pk)) or 0)


def counter(preview_id: int) -> Callable[[int], None]:
    def counted(row_number: int) -> None:
        if row_number % PROGRESS_EVERY == 0:
            cache.set(_progress_key(preview_id), row_number, timeout=24 * 3600)

    return counted


def summary(result: Any, problems: list[Any], notes: list[str]) -> dict[str, Any]:
    """What the finished preview page shows: totals, problems (the first ones) and notes."""
    return {
        "totals": dict(result.totals),
        "problems": [str(problem) for problem in problems[:PROBLEMS_SHOWN]],
        "more_problems": max(0, len(problems) - PROBLEMS_SHOWN),
        "notes": notes,
    }


def run(preview_id: int) -> None:
    """Dry-run the preview's file through its admin; a finished preview is left alone."""
    claimed = (
        ImportPreview.objects.filter(pk=preview_id)
        .exclude(state__in=[ImportPreviewState.DONE, ImportPreviewState.FAILED])
        .update(state=ImportPreviewState.RUNNING)
    )
    if not claimed:
        return
    preview = ImportPreview.objects.select_related("requested_by").get(pk=preview_id)
    try:
        model_admin = admin.site.get_model_admin(apps.get_model(preview.admin))
        request = HttpRequest()
        request.method = "POST"
        request.user = preview.requested_by
        if not model_admin.has_import_permission(request):
            raise PermissionDenied(f"{request.user} may no longer import into {preview.admin}")
        found = model_admin.preview_summary(
            request, upload_of(preview), bytes(preview.data), counter(preview_id)
        )
    except Exception as exc:
        ImportPreview.objects.filter(pk=preview_id).update(
            state=ImportPreviewState.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:1000],
            data=b"",
            finished_at=timezone.now(),
        )
        log.exception("import preview #%s failed", preview_id)
        return
    ImportPreview.objects.filter(pk=preview_id).update(
        state=ImportPreviewState.DONE, summary=found, data=b"", finished_at=timezone.now()
    )
    cache.delete(_progress_key(preview_id))


def prune() -> int:
    """Delete previews older than a confirmation may come (their files are swept too)."""
    cutoff = timezone.now() - timedelta(minutes=settings.IMPORT_CONFIRM_MINUTES)
    _, deleted = ImportPreview.objects.filter(created_at__lt=cutoff).delete()
    return deleted.get(ImportPreview._meta.label, 0)
