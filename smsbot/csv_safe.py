"""Exported cells a spreadsheet will not run: CSV formula injection neutralised.

Excel, LibreOffice and Google Sheets take a cell that starts with =, +, -, @,
a tab or a carriage return as a formula (OWASP, "CSV Injection"), so text that
came from outside (a daily message, anything typed into a form) could run as
one when an operator opens an export. Such text is exported with a leading
apostrophe, which spreadsheets show as text. A plain number ("-0.12", and an
E.164 number like "+13125550123") is left alone: it cannot hold a formula.

django-import-export's own IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only drops a
leading "=", and only in the admin's export view; FormulaSafeExport covers every
export of a resource, whatever calls it.
"""

import csv
import re
from collections.abc import Iterable
from typing import Any

from tablib import Dataset

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def unquoted(value: str) -> str:
    """A cell as it was before safe_cell: the apostrophe it put before a formula sign
    dropped, so an exported value imports as itself (an address "=x@example.com")."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


class _Writer:
    def __init__(self, file: Any) -> None:
        self._writer = csv.writer(file)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))


def writer(file: Any) -> _Writer:
    """csv.writer(file) whose rows are neutralised."""
    return _Writer(file)


class FormulaSafeExport:
    """A django-import-export Resource mixin: every exported cell goes through safe_cell."""

    def after_export(self, queryset: Any, dataset: Dataset, **kwargs: Any) -> None:
        super().after_export(queryset, dataset, **kwargs)  # type: ignore[misc]
        for index in range(len(dataset)):
            dataset[index] = tuple(safe_row(dataset[index]))
