"""The operations dashboard and the message log at scale, on PostgreSQL.

Fills a throw-away test database (created next to the one DATABASE_URL names)
with BENCH_MESSAGES messages (default 1,000,000) over BENCH_DAYS days and
BENCH_SUBSCRIBERS subscribers (default 100,000) with their consent events,
using INSERT … SELECT generate_series (no ORM loops); builds the rollups; then
times the admin's own views in-process through the test client (server time,
median of 5 after a warm-up):

- the dashboard (admin home), against the baseline of the same figures
  aggregated straight from the message table (no rollups);
- today's broadcast page, against the baseline of its messages counted by status;
- the message log: unfiltered, filtered, and searched by a number typed as
  people type it, against the baseline of Django's default admin list (full
  COUNT(*) and exact pagination count).

Filler numbers use the unassigned country code +999, so no real number is
ever stored; the searched number is the fictional +1 312 555 0123.
"""

import os
import time
from collections.abc import Callable
from datetime import timedelta

from bench import bulk
from bench.timing import median_ms

REPEAT = 5
BENCH_BROADCAST = "Daily (bench)"
BUDGET_MS = 500.0


def run() -> list[str]:
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        return [
            "skipped: needs PostgreSQL (set DATABASE_URL=postgres://…); the 1M-message data "
            "set says nothing useful on SQLite"
        ]
    from django.test.utils import setup_test_environment

    messages = int(os.environ.get("BENCH_MESSAGES", "1000000"))
    subscribers = int(os.environ.get("BENCH_SUBSCRIBERS", "100000"))
    days = int(os.environ.get("BENCH_DAYS", "60"))
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        return measure(connection, messages, subscribers, days)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def measure(connection, messages: int, subscribers: int, days: int) -> list[str]:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import User
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from messaging.admin.messages import MessageAdmin
    from messaging.models import Broadcast, Message
    from messaging.reports import figures, rollups

    started = time.perf_counter()
    fill(connection, messages, subscribers, days)
    load_s = time.perf_counter() - started
    today = timezone.localdate()
    started = time.perf_counter()
    rollups.refresh(today - timedelta(days=days), today + timedelta(days=1))
    rollup_s = time.perf_counter() - started

    admin = User.objects.create_superuser("bench", password="bench-password-0123")
    client = Client()
    client.force_login(admin)

    def page(url: str, params: dict[str, str] | None = None) -> Callable[[], None]:
        def get() -> None:
            response = client.get(url, params or {})
            assert response.status_code == 200, (url, response.status_code)

        return get

    since = str(rollups.day_start(today - timedelta(days=7)))
    log = "/admin/messaging/message/"
    daily_send = Broadcast.objects.get(name=BENCH_BROADCAST)
    views = {
        "dashboard (admin home)": page("/admin/"),
        "broadcast page": page(f"/admin/messaging/broadcast/{daily_send.pk}/change/"),
        "message log": page(log),
        "message log, filtered": page(
            log, {"status__exact": "failed", "provider__exact": "twilio", "created_at__gte": since}
        ),
        "message log, search": page(log, {"q": "(312) 555-0123"}),
    }
    ours = {name: median_ms(view, REPEAT) for name, view in views.items()}

    start = min(rollups.month_start(today), today - timedelta(days=29))
    end = today + timedelta(days=1)
    baselines = {
        # The dashboard's figures aggregated from the message table, no rollups.
        "dashboard (admin home)": median_ms(
            lambda: figures.load_facts(start, end, live_from=start), REPEAT
        ),
        # The broadcast's messages counted by status, straight from the message table.
        "broadcast page": median_ms(
            lambda: list(
                Message.objects.filter(broadcast=daily_send)
                .values("status")
                .annotate(n=Count("id"))
                .order_by()
            ),
            REPEAT,
        ),
    }
    # Django's default list: a full COUNT(*) for the total and for pagination.
    saved = MessageAdmin.show_full_result_count, MessageAdmin.paginator
    from django.core.paginator import Paginator

    MessageAdmin.show_full_result_count, MessageAdmin.paginator = True, Paginator
    try:
        for name in ("message log", "message log, filtered", "message log, search"):
            baselines[name] = median_ms(views[name], REPEAT)
    finally:
        MessageAdmin.show_full_result_count, MessageAdmin.paginator = saved

    lines = [
        f"PostgreSQL, {messages:,} messages over {days} days, {subscribers:,} subscribers "
        f"(load {load_s:.0f} s, rollups built in {rollup_s:.1f} s)",
    ]
    for name, ms in ours.items():
        base = baselines[name]
        verdict = "ok" if ms < BUDGET_MS else f"OVER the {BUDGET_MS:.0f} ms budget"
        lines.append(
            f"{name:<24} {ms:8.1f} ms  baseline {base:8.1f} ms  x{base / ms:5.1f} faster  {verdict}"
        )
    lines.append(
        "baselines: dashboard = only its aggregate queries over the message table (no "
        "rendering); broadcast page = its messages counted by status (no rendering); log = "
        "Django's default admin list with full counts"
    )
    return lines


def fill(connection, messages: int, subscribers: int, days: int) -> None:  # type: ignore[no-untyped-def]
    """Subscribers, consent events, a broadcast today, and messages spread over days."""
    from messaging.broadcasts import daily

    broadcast_size = min(subscribers, max(messages // days, 1))
    with connection.cursor() as cur:
        bulk.subscribers(cur, subscribers, days)
        cur.execute(
            """
            INSERT INTO subscribers_consentevent
                (subscriber_id, phone_hash, from_status, to_status, source, evidence, created_at)
            SELECT id, md5(phone), '', 'opted_in', 'web_form', '{"bench": true}'::jsonb, opted_in_at
            FROM subscribers_subscriber
            UNION ALL
            SELECT id, md5(phone), 'opted_in', 'opted_out', 'sms_keyword',
                   '{"text": "STOP"}'::jsonb, opted_out_at
            FROM subscribers_subscriber WHERE opted_out_at IS NOT NULL
            """
        )
        cur.execute(
            """
            INSERT INTO messaging_broadcast
                (idempotency_key, name, date, text, whatsapp_content_sid,
                 whatsapp_content_variables, channel, state, pause_reason, total, sent,
                 delivered, failed, skipped, cursor, fanout_done, mode, created_at)
            VALUES (%s, %s, %s, 'Tip', '', '{}', '',
                    'sending', '', %s, 0, 0, 0, 0, 0, false, 'same_moment', now())
            RETURNING id
            """,
            # Today's daily send, as the dashboard looks it up.
            [
                daily.key_for(daily.local_today()),
                BENCH_BROADCAST,
                daily.local_today(),
                broadcast_size,
            ],
        )
        broadcast_id = cur.fetchone()[0]
        # Most messages are spread over the period; the first `broadcast_size` are
        # today's broadcast, one per subscriber; a few go to the searched number.
        cur.execute(
            """
            INSERT INTO messaging_message
                (direction, kind, channel, provider, phone, subscriber_id, broadcast_id, body,
                 content_sid, content_variables, status, attempts, error_code, error_message,
                 segments, encoding, price_estimated, price_actual, price_unit, created_at,
                 updated_at)
            SELECT CASE WHEN r < 0.1 THEN 'inbound' ELSE 'outbound' END,
                   CASE WHEN i <= %(bsize)s THEN 'broadcast' WHEN r < 0.1 THEN 'inbound'
                        ELSE 'reply' END,
                   CASE WHEN i %% 5 = 0 THEN 'whatsapp' ELSE 'sms' END,
                   CASE WHEN i %% 5 = 0 OR i %% 3 = 0 THEN 'twilio' ELSE 'sns' END,
                   CASE WHEN i %% 10000 = 7 THEN '+13125550123'
                        ELSE '+999' || lpad((1 + i %% %(subs)s)::text, 9, '0') END,
                   CASE WHEN i <= %(bsize)s THEN i END,
                   CASE WHEN i <= %(bsize)s THEN %(broadcast)s END,
                   'Hello from the bench', '', '{}',
                   CASE WHEN r < 0.1 THEN 'received' WHEN r < 0.75 THEN 'delivered'
                        WHEN r < 0.85 THEN 'sent' WHEN r < 0.90 THEN 'failed'
                        WHEN r < 0.93 THEN 'undelivered' WHEN r < 0.96 THEN 'read'
                        ELSE 'queued' END,
                   1,
                   CASE WHEN r >= 0.85 AND r < 0.93
                        THEN (ARRAY['30003','30005','30007','21610','30008'])[1 + i %% 5]
                        ELSE '' END,
                   '', 1 + (i %% 3 = 0)::int, 'GSM-7',
                   CASE WHEN i %% 5 = 0 THEN 0.005 WHEN i %% 3 = 0 THEN 0.0083 ELSE 0.00645 END,
                   CASE WHEN r >= 0.1 AND r < 0.5 THEN 0.0079 END,
                   'USD', t, t
            FROM (SELECT i, random() AS r,
                         CASE WHEN i <= %(bsize)s THEN now() - random() * interval '1 hour'
                              ELSE now() - random() * %(days)s * interval '1 day' END AS t
                  FROM generate_series(1, %(n)s) AS i) AS g
            """,
            {
                "bsize": broadcast_size,
                "subs": subscribers,
                "broadcast": broadcast_id,
                "days": days,
                "n": messages,
            },
        )
        cur.execute("ANALYZE")
