"""Why a file cannot be imported, row by row, for every import (admin, command, worker)."""

from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS
from import_export.results import Result
from tablib import Dataset


@dataclass(frozen=True)
class Problem:
    """Why a file cannot be imported: one bad cell, a bad row, or the file itself."""

    row: int | None
    column: str
    message: str
    # The row's cells as in the file (before any normalising), for the page's table.
    cells: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.row is None:
            return f"file: {self.message}"
        column = f"{self.column}: " if self.column else ""
        return f"row {self.row}: {column}{self.message}"


def problems(result: Result, dataset: Dataset | None = None) -> list[Problem]:
    def cells(number: int) -> tuple[str, ...]:
        if dataset is None or not 0 < number <= len(dataset):
            return ()
        return tuple(str(cell if cell is not None else "") for cell in dataset[number - 1])

    found = [Problem(None, "", str(error.error)) for error in result.base_errors]
    for invalid in result.invalid_rows:
        for field, messages in invalid.error_dict.items():
            column = "" if field == NON_FIELD_ERRORS else field
            for message in messages:
                found.append(Problem(invalid.number, column, message, cells(invalid.number)))
    for number, errors in result.row_errors():
        for error in errors:
            found.append(Problem(number, "", str(error.error), cells(number)))
    return found
