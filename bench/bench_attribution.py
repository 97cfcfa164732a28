"""What broadcasts caused, at scale, on PostgreSQL: the broadcast page with its
attribution and the Daily content report over a year, at a small and a large
message table.

For each size in BENCH_ATTRIBUTION_SIZES (default "100000,10000000", the issue's:
about 5 minutes on two cores, nearly all of it the load) it fills a throw-away
test database (bench.bulk) with size/10 subscribers and a year of daily
broadcasts to them with their messages, inbound replies, STOPs and PAUSEs linked
to the broadcast they followed, and each broadcast's rollup row
(BroadcastAttribution) as the inbound pipeline keeps them; then times the admin's
own views through the test client (best of 5 after a warm-up: on a shared machine
other load only adds). The pages read rollups, so the large table must answer
within 2× of the small one.
"""

import os
import time
from datetime import timedelta

from bench import bulk
from bench.timing import best_ms

REPEAT = 5
DAYS = 365
LIMIT = 2.0


def run() -> list[str]:
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        return ["skipped: needs PostgreSQL (set DATABASE_URL=postgres://…)"]
    from django.test.utils import setup_test_environment

    sizes = [
        int(s) for s in os.environ.get("BENCH_ATTRIBUTION_SIZES", "100000,10000000").split(",")
    ]
    setup_test_environment()
    results: dict[int, dict[str, float]] = {}
    lines = []
    for size in sizes:
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            started = time.perf_counter()
            fill(connection, size)
            load_s = time.perf_counter() - started
            results[size] = measure()
            timings = ", ".join(f"{name} {ms:.1f} ms" for name, ms in results[size].items())
            lines.append(
                f"{size:>12,} messages, {subscribers_for(size):,} subscribers "
                f"(load {load_s:.0f} s): {timings}"
            )
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    small, large = results[sizes[0]], results[sizes[-1]]
    for name in small:
        ratio = large[name] / small[name]
        verdict = "ok" if ratio <= LIMIT else f"OVER {LIMIT}×"
        lines.append(f"{name:<28} x{ratio:4.2f} from {sizes[0]:,} to {sizes[-1]:,}  {verdict}")
    return lines


def measure() -> dict[str, float]:
    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone

    from messaging.models import Broadcast

    admin = User.objects.create_superuser("bench", password="bench-password-0123")
    client = Client()
    client.force_login(admin)
    today = timezone.localdate()
    broadcast = Broadcast.objects.filter(date=today - timedelta(days=1)).get()

    def get(url: str, params: dict[str, str] | None = None) -> None:
        response = client.get(url, params or {})
        assert response.status_code == 200, (url, response.status_code)

    year = {"start": str(today - timedelta(days=DAYS - 1)), "end": str(today)}
    return {
        "broadcast page": best_ms(
            lambda: get(f"/admin/messaging/broadcast/{broadcast.pk}/change/"), REPEAT
        ),
        "content report, a year": best_ms(
            lambda: get("/admin/messaging/dailycontent/report/", year), REPEAT
        ),
    }


def fill(connection, messages: int) -> None:  # type: ignore[no-untyped-def]
    """A year of daily broadcasts (done, settled), each with messages/365 recipients among
    messages/10 subscribers (1,000,000 at 10,000,000 messages); a tenth of the recipients
    answered (replies, STOPs, PAUSEs), counted in the rollup."""
    per_day = max(messages // DAYS, 1)
    cur = connection.cursor()
    with cur, bulk.loading(cur, "messaging_message", "subscribers_subscriber"):
        bulk.subscribers(cur, subscribers_for(messages), DAYS)
        _fill_broadcasts(cur, per_day, subscribers_for(messages))


def subscribers_for(messages: int) -> int:
    return max(messages // 10, 1)


def _fill_broadcasts(cur, per_day: int, subscribers: int) -> None:  # type: ignore[no-untyped-def]
    cur.execute(
        """
        INSERT INTO messaging_broadcast
            (idempotency_key, name, date, text, whatsapp_content_sid,
             whatsapp_content_variables, channel, state, pause_reason, total, sent,
             delivered, failed, skipped, cursor, fanout_done, mode, created_at,
             started_at, finished_at)
        SELECT 'daily:' || d::date, 'Daily ' || d::date, d::date, 'Thought of ' || d::date,
               '', '{}', '', 'done', '', %(n)s, 0, %(n)s * 95 / 100, %(n)s * 5 / 100, 0,
               0, true, 'same_moment', d, d, d + interval '1 hour'
        FROM generate_series(current_date - %(days)s, current_date - 1, interval '1 day') d
        """,
        {"n": per_day, "days": DAYS},
    )
    # Each day's recipients are the next per_day subscribers, round the list; a
    # broadcast's messages lie together in the table, as its fan-out writes them.
    cur.execute(
        """
        INSERT INTO messaging_message
            (direction, kind, channel, provider, phone, subscriber_id, broadcast_id, body,
             content_sid, content_variables, status, attempts, error_code, error_message,
             segments, encoding, price_estimated, price_unit, created_at, updated_at, sent_at)
        SELECT 'outbound', 'broadcast', 'sms', 'twilio', '+999' || lpad(k::text, 9, '0'),
               k, id, text, '', '{}',
               CASE WHEN i %% 20 = 0 THEN 'undelivered' ELSE 'delivered' END, 1, '', '',
               1, 'GSM-7', 0.0083, 'USD', created_at, created_at, created_at
        FROM (SELECT b.id, b.text, b.created_at, i, 1 + (b.id * %(n)s + i) %% %(subs)s AS k
              FROM messaging_broadcast b, generate_series(1, %(n)s) i) AS r
        ORDER BY id, i
        """,
        {"n": per_day, "subs": subscribers},
    )
    cur.execute(
        """
        INSERT INTO messaging_message
            (direction, kind, channel, provider, phone, subscriber_id, after_broadcast_id,
             body, content_sid, content_variables, status, attempts, error_code,
             error_message, segments, encoding, price_estimated, price_unit, created_at,
             updated_at)
        SELECT 'inbound', 'inbound', 'sms', 'twilio', m.phone, m.subscriber_id, m.broadcast_id,
               CASE WHEN m.id % 3 = 0 THEN 'STOP' WHEN m.id % 3 = 1 THEN 'PAUSE'
                    ELSE 'thanks' END,
               '', '{}', 'received', 0, '', '', 1, 'GSM-7', 0, 'USD',
               m.created_at + interval '2 hours', m.created_at + interval '2 hours'
        FROM messaging_message m WHERE m.kind = 'broadcast' AND m.id % 10 = 0
        """
    )
    cur.execute(
        """
        INSERT INTO messaging_broadcastattribution
            (broadcast_id, replies, stops, pauses, updated_at)
        SELECT after_broadcast_id, count(*) FILTER (WHERE body = 'thanks'),
               count(*) FILTER (WHERE body = 'STOP'), count(*) FILTER (WHERE body = 'PAUSE'),
               now()
        FROM messaging_message WHERE after_broadcast_id IS NOT NULL
        GROUP BY after_broadcast_id
        """
    )
