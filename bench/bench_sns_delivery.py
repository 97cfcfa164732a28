"""SNS delivery log lines applied per second: a backlog read from moto's CloudWatch Logs.

BENCH_SNS_LINES (default 50,000) sent SNS messages and one delivery line each, in
AWS's format, in moto's log group (over HTTP, in the same process). Measured in
the same run:

- read only: FilterLogEvents paging through the backlog (the floor: what moto
  and HTTP cost before anything is applied);
- baseline: the same lines applied one at a time through the single-report
  path (messaging.delivery.reports.apply, one transaction each), on a sample of
  BENCH_SNS_SAMPLE lines;
- fetch_sns_delivery's reader: the whole backlog, a page of up to 10,000 lines
  applied in bulk, cursor moved with each page.

Runs on the configured database; on PostgreSQL its scratch database is named
for this benchmark, so it never meets another one's.
"""

import logging
import os
import time
from datetime import UTC, datetime, timedelta

import django

LINES = int(os.environ.get("BENCH_SNS_LINES", "50000"))
SAMPLE = int(os.environ.get("BENCH_SNS_SAMPLE", "2000"))
PHONE = "+13125550123"


def run() -> list[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("messaging.delivery.reports").setLevel(logging.ERROR)
    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment
    from moto.server import ThreadedMotoServer

    from messaging.delivery import reports
    from messaging.models import DeliveryEvent, DeliveryLogCursor, Message, MessageStatus
    from messaging.providers.sns import delivery_logs
    from smsbot.aws import client
    from subscribers.consent import change
    from tests.conftest import free_port
    from tests.fakes.sns_delivery_logs import SnsDeliveryLogs, insert_sent_sns_messages

    setup_test_environment()
    if connection.vendor != "sqlite":
        connection.settings_dict["TEST"]["NAME"] = "test_smsbot_bench_sns_delivery"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{port}"
    settings.SMS_PROVIDER = "sns"
    try:
        subscriber = change(PHONE, "opted_in", "import", {"file": "bench"}).subscriber
        ids = [f"bench-{n:07d}" for n in range(LINES)]
        insert_sent_sns_messages(ids, subscriber)
        logs = SnsDeliveryLogs(client("logs"), settings.AWS_REGION, "123456789012")
        logs.write(
            [logs.success(i, PHONE, price="0.00581") for i in ids],
            at=datetime.now(UTC) - timedelta(hours=2),
            spacing=timedelta(milliseconds=100),
        )
        group = delivery_logs.log_groups()[0]
        now_ms = int(time.time() * 1000)

        started = time.perf_counter()
        read = sum(len(page) for page in delivery_logs._pages(group, 0, now_ms))
        read_seconds = time.perf_counter() - started

        sample = min(SAMPLE, LINES)
        lines = [delivery_logs.parse(logs.success(i, PHONE, price="0.00581")) for i in ids[:sample]]
        started = time.perf_counter()
        for report in lines:
            reports.apply(report)
        one_seconds = time.perf_counter() - started

        # The bulk reader starts from nothing applied, like a first run after an outage.
        DeliveryEvent.objects.all().delete()
        DeliveryLogCursor.objects.all().delete()
        Message.objects.update(status=MessageStatus.SENT, price_actual=None, delivered_at=None)
        started = time.perf_counter()
        result = delivery_logs.fetch()
        bulk_seconds = time.perf_counter() - started
        delivered = Message.objects.filter(status=MessageStatus.DELIVERED).count()
    finally:
        server.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)

    success = result.groups[0]
    read_rate, one_rate, bulk_rate = read / read_seconds, sample / one_seconds, LINES / bulk_seconds
    return [
        f"database: {connection.vendor}; {LINES:,} lines in moto's log group",
        f"read only (FilterLogEvents pages): {read_rate:,.0f} lines/s",
        f"baseline, one report at a time (sample of {sample:,}): {one_rate:,.0f} lines/s",
        f"fetch_sns_delivery, pages applied in bulk: {bulk_rate:,.0f} lines/s, "
        f"{bulk_seconds:.1f}s; {success.applied:,} applied, {delivered:,} messages delivered",
        f"ratio: {bulk_rate / one_rate:.1f}× the one-at-a-time rate, "
        f"{bulk_rate / read_rate:.2f}× the read-only rate",
    ]
