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
        loader: type[Loader] | None = adapters.get_loader(oid, Format.TEXT)
        if loader is None or getattr(loader, "reads_out_of_range", False):
            continue

        def load(self: Loader, data: Any, kind: str = kind, loader: type = loader) -> Any:
            try:
                return loader.load(self, data)
            except DataError:
                text = bytes(data).decode("utf-8", "replace")
                if not _beyond_python(text):
                    raise
                return _nearest(text, kind)

        wrapped = type(
            f"OutOfRange{loader.__name__}", (loader,), {"load": load, "reads_out_of_range": True}
        )
        adapters.register_loader(oid, wrapped)


def _beyond_python(text: str) -> bool:
    """'10000-01-01 05:59:00+00', '0044-03-15 BC', 'infinity': no Python date."""
    year = text.split("-", 1)[0]
    return text in ("infinity", "-infinity") or text.endswith("BC") or len(year) > 4
