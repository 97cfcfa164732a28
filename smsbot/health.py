"""Readiness checks: each one answers quickly or is reported as failing.

/readyz/ is public (a load balancer calls it), so its answer names the check
that failed and nothing more: the exception can carry host names, ports or a
database user, and goes to the log instead.
"""

import logging
import time
from collections.abc import Callable

from django.db import connection


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker(timeout: float = 2.0) -> None:
    from smsbot.celery import app

    with app.connection_for_write() as conn:
        conn.transport_options.update(
            {"socket_connect_timeout": timeout, "socket_timeout": timeout}
        )
        conn.ensure_connection(max_retries=1, timeout=timeout, interval_start=0)
        # Opening a channel makes the broker answer (Redis is pinged here).
        _ = conn.default_channel


log = logging.getLogger(__name__)

CHECKS: dict[str, Callable[[], None]] = {"database": check_database, "broker": check_broker}


def run_checks() -> tuple[bool, dict[str, dict[str, object]]]:
    results: dict[str, dict[str, object]] = {}
    healthy = True
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
            results[name] = {"ok": True}
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            healthy = False
            log.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
            results[name] = {"ok": False, "error": "failed (the reason is in the log)"}
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    return healthy, results
