"""CSV import and export of subscribers, shared by the admin and import_subscribers.

Every imported row goes through consent.change (source "import") with the file
name, the row number and the row's own evidence text. An optional `timezone`
column (an IANA name) sets the subscriber's zone; without it a new subscriber
gets its number's zone and an existing one keeps its own. Rows are numbered from 1
for the first line after the header, as the admin's preview numbers them. When
any row is bad, nothing is written.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from import_export import resources
from import_export.formats.base_formats import CSV
from import_export.results import Result
from tablib import Dataset

from subscribers.consent import ConsentError, change
from subscribers.localtime import is_timezone
from subscribers.models import Channel, ConsentSource, ConsentStatus, Subscriber
from subscribers.phones import InvalidPhone, normalize

REQUIRED_COLUMNS = ("phone", "evidence")
IMPORTED_FIELDS = ("phone", "channel", "consent_status", "timezone")
# Exported, and shown in the admin list, in this order.
SUBSCRIBER_COLUMNS = (
    "phone",
    "channel",
    "consent_status",
    "consent_source",
    "opted_in_at",
    "opted_out_at",
    "created_at",
    "undeliverable",
)


class SubscriberResource(resources.ModelResource):
    class Meta:
        model = Subscriber
        fields = (*SUBSCRIBER_COLUMNS, "timezone")
        import_id_fields = ("phone",)
        clean_model_instances = False
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def get_import_fields(self) -> list[Any]:
        # Consent dates and source are written by consent.change, never from a file.
        return [f for f in super().get_import_fields() if f.column_name in IMPORTED_FIELDS]

    def before_import(self, dataset: Dataset, **kwargs: Any) -> None:
        headers = [h.strip().lower() for h in dataset.headers or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in headers]
        if missing:
            raise ValueError(f"missing column(s): {', '.join(missing)}")
        dataset.headers = headers

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        """Check and normalise the row in place; every problem is reported at once."""
        errors: dict[str, str] = {}
        try:
            row["phone"] = normalize(str(row.get("phone") or ""))
        except InvalidPhone as exc:
            errors["phone"] = str(exc)
        row["channel"] = _cell(row, "channel") or Channel.SMS
        if row["channel"] not in Channel.values:
            errors["channel"] = f"unknown channel {row['channel']!r} (sms or whatsapp)"
        row["consent_status"] = _cell(row, "consent_status") or ConsentStatus.OPTED_IN
        if row["consent_status"] not in ConsentStatus.values:
            errors["consent_status"] = (
                f"unknown consent status {row['consent_status']!r} "
                f"({', '.join(ConsentStatus.values)})"
            )
        zone = str(row.pop("timezone", None) or "").strip()
        if zone:
            # IANA names are spelt with capitals: kept as written, checked exactly.
            row["timezone"] = zone
            if not is_timezone(zone):
                errors["timezone"] = f"unknown timezone {zone!r} (IANA, e.g. America/Chicago)"
        if not str(row.get("evidence") or "").strip():
            errors["evidence"] = "consent evidence is required (where and how consent was given)"
        if errors:
            raise ValidationError(errors)

    def save_instance(
        self, instance: Subscriber, is_create: bool, row: dict, **kwargs: Any
    ) -> None:
        evidence = {
            "file": Path(str(kwargs.get("file_name") or "")).name,
            "row": kwargs.get("row_number"),
            "evidence": str(row["evidence"]).strip(),
        }
        try:
            subscriber = change(
                row["phone"],
                row["consent_status"],
                ConsentSource.IMPORT,
                evidence,
                channel=row["channel"],
            ).subscriber
        except ConsentError as exc:
            raise ValidationError({"consent_status": str(exc)}) from exc
        zone = row.get("timezone")
        if zone and zone != subscriber.timezone:
            subscriber.timezone = zone
            subscriber.save(update_fields=["timezone"])


def _cell(row: dict[str, Any], column: str) -> str:
    return str(row.get(column) or "").strip().lower()


@dataclass(frozen=True)
class ImportReport:
    result: Result
    errors: list[str]

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.result.totals)


def row_errors(result: Result) -> list[str]:
    """One line per problem: 'row 3: phone: not a valid phone number'."""
    lines = [f"file: {error.error}" for error in result.base_errors]
    for invalid in result.invalid_rows:
        for field, messages in invalid.error_dict.items():
            for message in messages:
                lines.append(f"row {invalid.number}: {field}: {message}")
    for number, errors in result.row_errors():
        for error in errors:
            lines.append(f"row {number}: {error.error}")
    return lines


def import_csv(text: str, file_name: str, *, dry_run: bool) -> ImportReport:
    """Import a CSV document; all rows are written, or none."""
    dataset = CSV(encoding="utf-8").create_dataset(text.lstrip("\ufeff"))
    result = SubscriberResource().import_data(
        dataset,
        dry_run=dry_run,
        use_transactions=True,
        rollback_on_validation_errors=True,
        file_name=file_name,
    )
    return ImportReport(result, row_errors(result))
