"""Exporting subscribers to CSV, in the import's own columns.

A small set is written at once; a large one by a worker (subscribers.tasks),
into a SubscriberExport whose progress the admin shows and whose file it
serves when done. Rows go through django-import-export's CSV format, so its
export settings (formula escaping) apply to every exported file. Erased
subscribers are left out: they hold no number to export.
"""

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone
from import_export.formats.base_formats import CSV

from subscribers.importing import SubscriberResource
from subscribers.models import (
    AddressKind,
    ConsentEvent,
    ExportState,
    Subscriber,
    SubscriberExport,
    SubscriberExportPart,
)

log = logging.getLogger(__name__)

# Rows read, and written as one part, at a time.
CHUNK_ROWS = 2_000
# Sets up to this size are exported in the request; larger ones by a worker.
INLINE_ROWS = 2_000
# Exported files hold personal data: they are deleted this long after they were asked for.
KEEP_FOR = timedelta(hours=24)


def exportable(queryset: QuerySet) -> QuerySet:
    return queryset.filter(erased_at__isnull=True)


def with_latest_consent_event(subscribers: list[Subscriber]) -> list[Subscriber]:
    """Attach each subscriber's number's latest consent event (one query), for the
    evidence column (the address's consent is its own column, email_status)."""
    latest: dict[int, ConsentEvent] = {}
    events = ConsentEvent.objects.filter(
        subscriber__in=[s.pk for s in subscribers], address_kind=AddressKind.PHONE
    )
    # Oldest first, so each subscriber's last one stays.
    for event in events.order_by("subscriber_id", "created_at", "id"):
        latest[event.subscriber_id] = event
    for subscriber in subscribers:
        subscriber.latest_consent_event = latest.get(subscriber.pk)
    return subscribers


def csv_parts(queryset: QuerySet) -> Iterator[tuple[str, int]]:
    """The CSV text of the queryset's exportable rows in id order, CHUNK_ROWS at a time.

    Yields (text, rows in it); the first part starts with the header, and a set
    with no rows is one part holding only the header.
    """
    resource = SubscriberResource()
    file_format = CSV(encoding="utf-8")
    rows = exportable(queryset).order_by("id")
    last_id, first = 0, True
    while True:
        chunk = with_latest_consent_event(list(rows.filter(id__gt=last_id)[:CHUNK_ROWS]))
        if not chunk and not first:
            return
        dataset = resource.export(queryset=chunk)
        if not first:
            dataset.headers = None
        yield file_format.export_data(dataset), len(chunk)
        if not chunk:
            return
        last_id, first = chunk[-1].pk, False


def small_export(queryset: QuerySet) -> tuple[str, int] | None:
    """(the whole file, its rows) when the set is small enough to write in the request."""
    if exportable(queryset).order_by()[: INLINE_ROWS + 1].count() > INLINE_ROWS:
        return None
    parts = list(csv_parts(queryset))
    return "".join(text for text, _ in parts), sum(rows for _, rows in parts)


def prune() -> int:
    """Delete exports past KEEP_FOR (their parts go with them)."""
    old = SubscriberExport.objects.filter(created_at__lt=timezone.now() - KEEP_FOR)
    _, deleted = old.delete()
    return deleted.get(SubscriberExport._meta.label, 0)


def run(export_id: int, matching: Callable[[SubscriberExport], QuerySet]) -> None:
    """Write the export's file; `matching` gives the rows its list's filters select.

    Run again (a redelivered task), it starts the file over; a finished export
    is left alone.
    """
    claimed = (
        SubscriberExport.objects.filter(pk=export_id)
        .exclude(state=ExportState.DONE)
        .update(state=ExportState.RUNNING, done=0, error="")
    )
    if not claimed:
        return
    export = SubscriberExport.objects.get(pk=export_id)
    export.parts.all().delete()
    try:
        queryset = matching(export)
        SubscriberExport.objects.filter(pk=export_id).update(total=exportable(queryset).count())
        done = 0
        for number, (text, rows) in enumerate(csv_parts(queryset), 1):
            SubscriberExportPart.objects.create(export=export, number=number, text=text)
            done += rows
            SubscriberExport.objects.filter(pk=export_id).update(done=done)
    except Exception as exc:
        SubscriberExport.objects.filter(pk=export_id).update(
            state=ExportState.FAILED, error=f"{type(exc).__name__}: {exc}"[:1000]
        )
        log.exception("subscriber export #%s failed", export_id)
        raise
    SubscriberExport.objects.filter(pk=export_id).update(
        state=ExportState.DONE, finished_at=timezone.now()
    )


def file_text(export: SubscriberExport) -> Iterator[str]:
    """The finished file, part by part, for a streaming download."""
    yield from export.parts.order_by("number").values_list("text", flat=True).iterator()
