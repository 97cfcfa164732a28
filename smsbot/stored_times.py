"""Dates and times PostgreSQL holds that Python cannot: read as the nearest Python can.

PostgreSQL keeps years up to 294276 and ±infinity; Python's datetime stops at
year 9999, and psycopg refuses the rest with a DataError, so one such value
(put there by SQL, or by a far-future time typed in a zone west of UTC before
the admin bounded its inputs) would make every page that reads its row
answer 500. On every new PostgreSQL connection the date, timestamp and
timestamptz loaders are wrapped: such a value reads as a day inside Python's
range (a day's margin, so that showing it in any timezone works), the page
shows it, and the operator can correct it through the form, which holds
dates to smsbot.admin_inputs' range.
"""

from datetime import UTC, date, datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

LATEST = datetime(9999, 12, 30, tzinfo=UTC)
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)


def _nearest(text: str, kind: str) -> date | datetime:
    early = text.startswith("-infinity") or text.endswith("BC")
    moment = EARLIEST if early else LATEST
    if kind == "date":
        return moment.date()
    return moment if kind == "timestamptz" else moment.replace(tzinfo=None)


def read_out_of_range(sender: type, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created receiver: wrap the connection's loaders (psycopg 3 only)."""
    adapters = getattr(connection.connection, "adapters", None)
    if connection.vendor != "postgresql" or adapters is None:
        return
    from psycopg import DataError
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    for kind in ("date", "timestamp", "timestamptz"):
        oid = adapters.types[kind].oid
        inner: type[Loader] | None = adapters.get_loader(oid, Format.TEXT)
        if inner is None or getattr(inner, "reads_out_of_range", False):
            continue
        adapters.register_loader(oid, _wrapped(inner, kind, DataError))


def _wrapped(inner: type, kind: str, error: type[Exception]) -> type:
    # Composition: psycopg's C loaders cannot be subclassed.
    from psycopg.adapt import Loader

    class OutOfRangeLoader(Loader):
        reads_out_of_range = True
        # Django compares the connection's timestamptz loader's zone with its own.
        timezone = getattr(inner, "timezone", None)

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self.inner = inner(oid, context)

        def load(self, data: Any) -> Any:
            try:
                return self.inner.load(data)
            except error:
                text = bytes(data).decode("utf-8", "replace")
                if not _beyond_python(text):
                    raise
                return _nearest(text, kind)

    return OutOfRangeLoader


def _beyond_python(text: str) -> bool:
    """'10000-01-01 05:59:00+00', '0044-03-15 BC', 'infinity': no Python date."""
    year = text.split("-", 1)[0]
    return text in ("infinity", "-infinity") or text.endswith("BC") or len(year) > 4
