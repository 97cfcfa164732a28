"""What a checked file would do, row by row, as the import page shows it.

django-import-export's own preview lists every field of the resource, with
"Skipped" and "Update" beside each row; an operator reads the file's own
columns, and what happens to each row in the words of the page's summary.
"""

from dataclasses import dataclass

from import_export.results import Result
from tablib import Dataset

# import-export's row outcomes, as the page's summary says them.
ACTION_WORDS = {"new": "New", "update": "Changed", "skip": "Unchanged", "delete": "Deleted"}


@dataclass(frozen=True)
class Row:
    number: int
    action: str  # import-export's import_type: new, update, skip, delete
    cells: list[str]  # import-export's diff of each column: safe HTML

    @property
    def words(self) -> str:
        return ACTION_WORDS.get(self.action, self.action)


@dataclass(frozen=True)
class RowsTable:
    columns: list[str]
    rows: list[Row]


def rows_table(result: Result, dataset: Dataset) -> RowsTable:
    """The columns the file has (not every field of the resource), and each row's action."""
    given = set(dataset.headers or ())
    keep = [i for i, name in enumerate(result.diff_headers) if name in given]
    return RowsTable(
        columns=[result.diff_headers[i] for i in keep],
        # One result per row of the file, in order: its position is its row number.
        rows=[
            Row(number, row.import_type, [row.diff[i] for i in keep])
            for number, row in enumerate(result.rows, start=1)
            if row.import_type in ACTION_WORDS
        ],
    )
