"""The subscriber admin list at scale: does a page cost the same at 1k and at N rows?

Fills a throw-away test database with BENCH_SUBSCRIBERS rows (default one
million) and times the admin's own changelist views through the test client:
unfiltered, filtered, a full-number search and a last-digits search. The
baseline is the same view over 1,000 rows, measured in the same run; a ratio
near 1 means the page does not grow with the table. Filler rows use the
unassigned country code +999, so no real number is ever stored.
"""

import os
from collections.abc import Callable

from bench.timing import best_ms

SMALL = 1_000
REPEAT = 7
VIEWS = {
    "unfiltered": {},
    "status filter": {"consent_status__exact": "opted_out"},
    "channel filter": {"channel__exact": "whatsapp"},
    "full number search": {"q": "(312) 555-0123"},
    "last digits search": {"q": "0123"},
}


def run() -> list[str]:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    size = int(os.environ.get("BENCH_SUBSCRIBERS", "1000000"))
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        admin = User.objects.create_superuser("bench", password="x")
        client = Client()
        client.force_login(admin)
        url = reverse("admin:subscribers_subscriber_changelist")

        def page(params: dict[str, str]) -> Callable[[], None]:
            def get() -> None:
                response = client.get(url, params)
                assert response.status_code == 200, response.status_code

            return get

        fill(connection, SMALL)
        small = {name: best_ms(page(params), REPEAT) for name, params in VIEWS.items()}
        fill(connection, size)
        large = {name: best_ms(page(params), REPEAT) for name, params in VIEWS.items()}
        count_ms = best_ms(lambda: _count(connection), REPEAT)
        lines = [f"{connection.vendor}, {size:,} subscribers (baseline {SMALL:,})"]
        for name in VIEWS:
            lines.append(
                f"{name:<20} {small[name]:8.1f} ms -> {large[name]:8.1f} ms  "
                f"x{large[name] / small[name]:.2f}"
            )
        lines.append(
            f"(a full COUNT(*) alone, which the unfiltered list avoids: {count_ms:.1f} ms)"
        )
        return lines
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def fill(connection, total: int) -> None:  # type: ignore[no-untyped-def]
    """Top the table up to total rows with one INSERT … SELECT (no ORM round trips)."""
    from subscribers.consent import change

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM subscribers_subscriber")
        have = cursor.fetchone()[0]
        if have == 0:
            change("+13125550123", "opted_in", "admin", {"reason": "benchmark"})
            have = 1
        start, stop = have, total
        if stop <= start:
            return
        # Every tenth row opted out, every fourth on WhatsApp: filters have work to do.
        columns = (
            "phone, channel, consent_status, consent_source, created_at, updated_at, "
            "undeliverable, undeliverable_reason, version, mirror_synced_version, mirror_error, "
            "timezone"
        )
        values = (
            "'+999' || substr('000000000' || n, -9, 9), "
            "CASE WHEN n %% 4 = 0 THEN 'whatsapp' ELSE 'sms' END, "
            "CASE WHEN n %% 10 = 0 THEN 'opted_out' ELSE 'opted_in' END, "
            "'import', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false, '', 1, 0, '', "
            "'America/Chicago'"
        )
        if connection.vendor == "postgresql":
            values = values.replace("substr('000000000' || n, -9, 9)", "lpad(n::text, 9, '0')")
            cursor.execute(
                f"INSERT INTO subscribers_subscriber ({columns}) "  # noqa: S608 - constant text
                f"SELECT {values} FROM generate_series(%s, %s - 1) AS n",
                [start, stop],
            )
            cursor.execute("ANALYZE subscribers_subscriber")
        else:
            cursor.execute(
                f"WITH RECURSIVE seq(n) AS (SELECT %s UNION ALL SELECT n + 1 FROM seq "  # noqa: S608
                f"WHERE n + 1 < %s) INSERT INTO subscribers_subscriber ({columns}) "
                f"SELECT {values} FROM seq",
                [start, stop],
            )
            cursor.execute("ANALYZE")


def _count(connection) -> None:  # type: ignore[no-untyped-def]
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM subscribers_subscriber")
        cursor.fetchone()
