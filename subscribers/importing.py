"""The subscribers CSV file: its columns, import and the rows of an export.

The admin's import, import_subscribers and the export job share one resource,
so a file has the same columns both ways (phone, evidence, channel,
consent_status, timezone, email, email_status, and any column the resource
gains) and importing an export again changes nothing.

Every imported row goes through consent.change (source "import") with the file
name, the row number and the row's own evidence text. An optional `timezone`
column (an IANA name) sets the subscriber's zone; without it a new subscriber
gets its number's zone and an existing one keeps its own.

An `email` column is never consent: an address the subscriber does not hold yet
starts its double opt-in (pending, a confirmation e-mail with its link; the
file's evidence kept with the event), as the form and the API do; the address
already on record is left as it is, whatever its state, so a re-imported export
changes nothing. `email_status` is exported, never imported: only the owner's
click confirms an address. Rows are numbered from 1
for the first line after the header, as the admin's preview numbers them. When
any row is bad, nothing is written.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from import_export import fields, resources
from import_export.formats.base_formats import CSV
from import_export.results import Result
from tablib import Dataset

from smsbot.csv_safe import FormulaSafeExport, unquoted
from smsbot.imports.problems import problems
from subscribers import hooks
from subscribers.consent import (
    ConsentError,
    change,
    normalize_email,
    number_confirmation_channel,
    request_email_optin,
)
from subscribers.history import sentence
from subscribers.localtime import is_timezone
from subscribers.models import AddressKind, Channel, ConsentSource, ConsentStatus, Subscriber
from subscribers.phones import InvalidPhone, check_subscriber, normalize

EVIDENCE = "evidence"
REQUIRED_COLUMNS = ("phone", EVIDENCE)
# The file's columns, in order; the resource may gain more (see describe_columns).
FILE_COLUMNS = (
    "phone", EVIDENCE, "channel", "consent_status", "timezone", "email", "email_status",
)  # fmt: skip

# What a column holds and an example value. A column the resource gains without
# an entry here is described from its model field (help text, choices, default).
COLUMN_HELP: dict[str, tuple[str, str]] = {
    "phone": (
        "The number, in any format: +13125550123, (312) 555-0123, whatsapp:+13125550123.",
        "+13125550123",
    ),
    EVIDENCE: (
        "Where and how the person consented. Kept with the consent record.",
        "paper sign-up sheet, autumn street fair",
    ),
    "channel": (
        "sms, whatsapp or email (needs an address). Empty means sms. The number's own "
        "confirmation goes by SMS when e-mail carries the daily message.",
        "sms",
    ),
    "consent_status": (
        "opted_in, opted_out or pending. Empty means opted_in. A pending row is sent a "
        "confirmation message (Reply YES), which is paid for.",
        "opted_in",
    ),
    "timezone": (
        "The subscriber's timezone, an IANA name. Empty: a new subscriber gets their "
        "number's zone, an existing one keeps theirs.",
        "America/Chicago",
    ),
    # No example: the template imports cleanly whether e-mail is on or off.
    "email": (
        "An e-mail address, e.g. reader@example.com (needs EMAIL_FROM). A new one is "
        "pending and sent a confirmation e-mail: only its owner's click confirms it. "
        "The address on record is left as it is. Empty: no change.",
        "",
    ),
    "email_status": (
        "Exported, ignored on import: the address's consent (pending, opted_in, opted_out).",
        "",
    ),
}


# In an export, ignored on import.
EXPORT_ONLY = frozenset({"email_status"})


class SubscriberResource(FormulaSafeExport, resources.ModelResource):
    # Read into the consent event on import; on export, the latest event in words.
    evidence = fields.Field(column_name=EVIDENCE, readonly=True)
    # Exported only: an import never sets an address's consent (see the module's note).
    email_status = fields.Field(attribute="email_status", column_name="email_status", readonly=True)

    class Meta:
        model = Subscriber
        fields = FILE_COLUMNS
        import_id_fields = ("phone",)
        clean_model_instances = False
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # (phone, channel) of each confirmation the import sends: a number made
        # pending, an address made pending (channel email).
        self.confirmations: list[tuple[str, str]] = []

    def get_import_fields(self) -> list[Any]:
        # Evidence goes into the consent event, never onto the subscriber row.
        return [f for f in super().get_import_fields() if f.column_name != EVIDENCE]

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
            check_subscriber(row["phone"])
        except InvalidPhone as exc:
            errors["phone"] = str(exc)
        row["channel"] = _cell(row, "channel") or Channel.SMS
        if row["channel"] not in Channel.values:
            errors["channel"] = f"unknown channel {row['channel']!r} (sms, whatsapp or email)"
        address = unquoted(str(row.pop("email", None) or "").strip())
        if address:
            try:
                row["email"] = _address(address)
            except ConsentError as exc:
                errors["email"] = str(exc)
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
        if not str(row.get(EVIDENCE) or "").strip():
            errors[EVIDENCE] = "consent evidence is required (where and how consent was given)"
        if errors:
            raise ValidationError(errors)

    def save_instance(
        self, instance: Subscriber, is_create: bool, row: dict, **kwargs: Any
    ) -> None:
        evidence = {
            "file": Path(str(kwargs.get("file_name") or "")).name,
            "row": kwargs.get("row_number"),
            EVIDENCE: str(row[EVIDENCE]).strip(),
        }
        user = kwargs.get("user")
        if user is not None:
            evidence["imported_by"] = user.get_username()
        try:
            outcome = change(
                row["phone"],
                row["consent_status"],
                ConsentSource.IMPORT,
                evidence,
                channel=row["channel"],
                respect_phone_opt_out=True,
            )
        except ConsentError as exc:
            raise ValidationError({"consent_status": str(exc)}) from exc
        zone = row.get("timezone")
        if zone and zone != outcome.subscriber.timezone:
            outcome.subscriber.timezone = zone
            outcome.subscriber.save(update_fields=["timezone"])
        if outcome.changed and outcome.to_status == ConsentStatus.PENDING:
            channel = number_confirmation_channel(outcome.subscriber.channel)
            self.confirmations.append((outcome.subscriber.phone, channel))
        self._import_email(outcome.subscriber, row, evidence)

    def _import_email(self, subscriber: Subscriber, row: dict, evidence: dict[str, Any]) -> None:
        """The row's address: a new one starts its double opt-in; the one on record stays."""
        address = row.get("email") or ""
        if address and address.lower() != subscriber.email.lower():
            if subscriber.consent_status == ConsentStatus.OPTED_OUT:
                raise ValidationError(
                    {"email": "the number is opted out, which ends every channel: no address"}
                )
            try:
                request_email_optin(subscriber.phone, address, ConsentSource.IMPORT, evidence)
            except ConsentError as exc:
                raise ValidationError({"email": str(exc)}) from exc
            self.confirmations.append((subscriber.phone, Channel.EMAIL))
        elif row["channel"] == Channel.EMAIL and not subscriber.email:
            raise ValidationError({"channel": "channel email needs an address (the email column)"})

    def after_import(self, dataset: Dataset, result: Result, **kwargs: Any) -> None:
        # What the admin's page shows beside import-export's own result.
        result.problems = problems(result, dataset)
        result.confirmations = ConfirmationForecast.of(self.confirmations)
        result.file_name = Path(str(kwargs.get("file_name") or "")).name

    def dehydrate_evidence(self, subscriber: Subscriber) -> str:
        event = getattr(subscriber, "latest_consent_event", None)
        if event is None and not hasattr(subscriber, "latest_consent_event"):
            events = subscriber.consent_events.filter(address_kind=AddressKind.PHONE)
            event = events.order_by("-created_at", "-id").first()
        # In UTC: a file outlives the screen it came from.
        return sentence(event, UTC) if event else ""


def _address(address: str) -> str:
    """The address as stored; ConsentError when it is not one or e-mail is off."""
    if not settings.EMAIL_FROM:
        raise ConsentError("e-mail is off (EMAIL_FROM is not set): no confirmation could go")
    return normalize_email(address)


def _cell(row: dict[str, Any], column: str) -> str:
    return str(row.get(column) or "").strip().lower()


def money(amount: Decimal) -> str:
    """$1,234.56, or four places under a dollar so a few messages do not show as $0.00."""
    return f"${amount:,.2f}" if amount >= 1 else f"${amount:.4f}"


@dataclass(frozen=True)
class ConfirmationForecast:
    """The double opt-in confirmations an import sends: rows that become pending."""

    by_channel: dict[str, int]
    # Estimated USD; None when no app prices confirmations.
    cost: Decimal | None

    @classmethod
    def of(cls, recipients: list[tuple[str, str]]) -> "ConfirmationForecast":
        prices = [hooks.confirmation_price(phone, channel) for phone, channel in recipients]
        known = [p for p in prices if p is not None]
        cost = sum(known, Decimal("0")) if len(known) == len(prices) else None
        return cls(dict(Counter(channel for _, channel in recipients)), cost)

    @property
    def count(self) -> int:
        return sum(self.by_channel.values())

    def __str__(self) -> str:
        if not self.count:
            return "No row asks for a confirmation message."
        labels = dict(Channel.choices)
        split = ", ".join(f"{n} {labels.get(c, c)}" for c, n in sorted(self.by_channel.items()))
        cost = "unknown" if self.cost is None else money(self.cost)
        # A row can ask for two: its number's and its new address's.
        sent = (
            "1 confirmation message will be sent"
            if self.count == 1
            else f"{self.count} confirmation messages will be sent"
        )
        # At most: the double opt-in's own limits (one a day per number, an hourly
        # cap) may withhold some when they are sent.
        return f"{sent} for pending rows ({split}): projected cost up to {cost}."


@dataclass(frozen=True)
class ColumnHelp:
    name: str
    required: bool
    meaning: str
    example: str


def describe_columns() -> list[ColumnHelp]:
    """The file's columns as the resource has them, each with what it holds and an example."""
    described = []
    for name in SubscriberResource().get_export_headers():
        meaning, example = COLUMN_HELP.get(name) or _from_model_field(name)
        described.append(ColumnHelp(name, name in REQUIRED_COLUMNS, meaning, example))
    return described


def _from_model_field(name: str) -> tuple[str, str]:
    try:
        field = Subscriber._meta.get_field(name)
    except FieldDoesNotExist:
        return "", ""
    meaning = str(field.help_text or field.verbose_name).rstrip(".") + "."
    if field.choices:
        meaning += " One of: " + ", ".join(str(value) for value, _ in field.choices) + "."
    default = field.get_default()
    if default not in (None, ""):
        meaning += f" Empty means {default}."
    example = str(default if default not in (None, "") else "")
    if not example and field.choices:
        example = str(field.choices[0][0])
    return meaning, example


def template_csv() -> str:
    """A header and one example row: a file to fill in (without the columns an import
    ignores, which the page still names because exports carry them)."""
    columns = [c for c in describe_columns() if c.name not in EXPORT_ONLY]
    dataset = Dataset(headers=[c.name for c in columns])
    dataset.append([c.example for c in columns])
    # Written directly (not through the export format): the cells are our own.
    return dataset.csv


@dataclass(frozen=True)
class ImportReport:
    result: Result
    errors: list[str]

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.result.totals)

    @property
    def confirmations(self) -> ConfirmationForecast:
        return getattr(self.result, "confirmations", ConfirmationForecast({}, Decimal("0")))


def row_errors(result: Result) -> list[str]:
    """One line per problem: 'row 3: phone: not a valid phone number'."""
    return [str(problem) for problem in getattr(result, "problems", None) or problems(result)]


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
