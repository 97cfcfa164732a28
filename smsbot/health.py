"""Readiness checks: each one answers quickly or is reported as failing.

/readyz/ is public (a load balancer calls it), so its answer names each check
and whether it passed, nothing more: the exception can carry host names, ports or
a database user, and how long each check took tells an outsider how loaded the
database is or when a timeout fires. Both go to the log instead.
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


def run_checks() -> tuple[bool, dict[str, dict[str, bool]]]:
    results: dict[str, dict[str, bool]] = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            log.warning(
                "readiness check %s failed after %.1f ms: %s: %s",
                name, _ms_since(started), type(exc).__name__, exc,
            )  # fmt: skip
            results[name] = {"ok": False}
        else:
            log.debug("readiness check %s passed in %.1f ms", name, _ms_since(started))
            results[name] = {"ok": True}
    return all(result["ok"] for result in results.values()), results


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000
