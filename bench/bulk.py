"""Filling a scratch PostgreSQL database with millions of rows in minutes, as the
scale benchmarks do: INSERT … SELECT generate_series (no ORM loops), secondary
indexes built once after the load instead of maintained row by row, foreign keys
not checked row by row (the fill is consistent by construction), then VACUUM
ANALYZE so the planner and index-only scans see what production would.

Filler numbers use the unassigned country code +999, so no real number is ever
stored: subscriber i has +999 and i on nine digits, and so do the messages to it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Index builds sort in memory up to this (a session setting, the server's is untouched).
BUILD_MEMORY = "512MB"


@contextmanager
def loading(cur: Any, *tables: str) -> Iterator[None]:
    """Load the tables without their secondary indexes and without row-by-row foreign
    key checks; build the indexes again (the same definitions) and analyze after.

    The indexes behind constraints (primary keys, unique) stay: they are the
    tables' rules. Skipping the foreign key triggers needs a superuser (the bench's
    own server); without one the load is only slower.
    """
    cur.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (
              SELECT 1 FROM pg_constraint c
              WHERE c.conindid
                  = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)
        """,
        [list(tables)],
    )
    indexes = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    superuser = cur.fetchone()[0]
    if superuser:
        cur.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        if superuser:
            cur.execute("SET session_replication_role = DEFAULT")
        cur.execute(f"SET maintenance_work_mem = '{BUILD_MEMORY}'")
        for _, definition in indexes:
            cur.execute(definition)
        cur.execute("RESET maintenance_work_mem")
    # Visibility map set (index-only scans) and statistics current, as in production.
    cur.execute("VACUUM ANALYZE")


def subscribers(cur: Any, n: int, days: int) -> None:
    """n subscribers (ids 1..n, phones phone(i)) who joined over the last days; one in
    five on WhatsApp, one in ten opted out three days after joining."""
    cur.execute(
        """
        INSERT INTO subscribers_subscriber
            (id, phone, channel, consent_status, consent_source, opted_in_at, opted_out_at,
             created_at, updated_at, undeliverable, undeliverable_reason, version,
             mirror_synced_version, mirror_error, timezone)
        SELECT i, '+999' || lpad(i::text, 9, '0'),
               CASE WHEN i %% 5 = 0 THEN 'whatsapp' ELSE 'sms' END,
               CASE WHEN i %% 10 = 0 THEN 'opted_out' ELSE 'opted_in' END,
               'web_form', t, CASE WHEN i %% 10 = 0 THEN t + interval '3 days' END,
               t, t, false, '', 1, 0, '', 'America/Chicago'
        FROM (SELECT i, now() - random() * %s * interval '1 day' AS t
              FROM generate_series(1, %s) AS i) AS g
        """,
        [days, n],
    )
    cur.execute(
        "SELECT setval(pg_get_serial_sequence('subscribers_subscriber', 'id'), %s)", [max(n, 1)]
    )
