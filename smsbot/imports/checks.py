"""What an import file must be before anything is previewed: each refusal in a sentence.

Size and rows have limits (settings.IMPORT_MAX_BYTES, IMPORT_MAX_ROWS); the
file must be UTF-8 text (not a web page, not binary) that reads as the chosen
format, with a header row holding the columns that identify a row.
"""

from typing import Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from tablib import Dataset

ENCODING = "utf-8-sig"


class ImportRefused(Exception):
    """The file cannot be imported; the message says why, for the operator."""


def check_size(size: int) -> None:
    if size > settings.IMPORT_MAX_BYTES:
        raise ImportRefused(
            f"The file is {filesizeformat(size)}; at most "
            f"{filesizeformat(settings.IMPORT_MAX_BYTES)} can be imported at once. "
            "Split it into smaller files."
        )


def _text(data: bytes) -> str:
    try:
        text = data.decode(ENCODING)
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            "The file is not UTF-8 text. Save it as \u201cCSV UTF-8\u201d and upload it again."
        ) from exc
    if "\x00" in text:
        raise ImportRefused("The file is binary, not a CSV file.")
    start = text.lstrip()[:200].lower()
    if start.startswith(("<!doctype", "<html", "<?xml", "<head", "<body", "<table")):
        raise ImportRefused("The file is a web page (HTML or XML), not a CSV file.")
    return text


def id_columns(resource: Any) -> list[str]:
    """The columns that identify a row, as the resource names them in a file."""
    fields = resource.fields
    return [
        fields[name].column_name if name in fields else name
        for name in resource.get_import_id_fields()
    ]


def read(data: bytes, input_format: Any, resource: Any) -> Dataset:
    """The file's rows, or ImportRefused saying what is wrong with it."""
    check_size(len(data))
    content: bytes | str = data if input_format.is_binary() else _text(data)
    try:
        dataset = input_format.create_dataset(content)
    except Exception as exc:  # every reader's own error means the same to the operator
        raise ImportRefused(
            f"The file cannot be read as {input_format.get_title().upper()} "
            f"({type(exc).__name__}). Check it is the file you meant and its format."
        ) from exc
    headers = [str(h or "").strip().lower() for h in dataset.headers or []]
    if not any(headers):
        raise ImportRefused("The file has no header row naming its columns.")
    missing = [c for c in id_columns(resource) if c.lower() not in headers]
    if missing:
        raise ImportRefused(
            f"The file has no {', '.join(missing)} column (its columns: "
            f"{', '.join(h for h in headers if h) or 'none'})."
        )
    if not len(dataset):
        raise ImportRefused("The file has a header row but no rows to import.")
    if len(dataset) > settings.IMPORT_MAX_ROWS:
        raise ImportRefused(
            f"The file has {len(dataset):,} rows; at most {settings.IMPORT_MAX_ROWS:,} can be "
            "imported at once. Split it into smaller files."
        )
    return dataset
