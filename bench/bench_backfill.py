"""Backfill of the subscribers table: BatchWriteItem against one PutItem per item.

Both run in the same process against moto's server over HTTP. The baseline
(the live mirror's conditional PutItem, one per item) is timed on a sample of
BENCH_BACKFILL_PUT_SAMPLE rows, since its rate does not depend on table size.
Sizes: BENCH_BACKFILL_SUBSCRIBERS (default 100,000).

Numbers use the spare country code +999, so no real phone can be among them.
"""

import logging
import os
import time
from collections import Counter
from typing import Any

import django

SUBSCRIBERS = int(os.environ.get("BENCH_BACKFILL_SUBSCRIBERS", "100000"))
PUT_SAMPLE = int(os.environ.get("BENCH_BACKFILL_PUT_SAMPLE", "2000"))


def _fresh_table(ddb: Any, name: str) -> None:
    if name in ddb.list_tables()["TableNames"]:
        ddb.delete_table(TableName=name)
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "phone", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "phone", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _requests_counter(ddb: Any) -> Counter[str]:
    """Counts HTTP requests as sent, so botocore's own retries are included."""
    sent: Counter[str] = Counter()

    def count(**kwargs: Any) -> None:
        sent[kwargs["event_name"].rsplit(".", 1)[-1]] += 1

    ddb.meta.events.register("before-send.dynamodb", count)
    return sent


def run() -> list[str]:
    # moto's server logs every request it serves; 4,000 lines would bury the figures.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment
    from moto.server import ThreadedMotoServer

    from subscribers.mirror import bulk as mirror_bulk
    from subscribers.mirror import write as mirror
    from subscribers.models import Subscriber
    from tests.conftest import free_port

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{port}"
    try:
        Subscriber.objects.bulk_create(
            (
                Subscriber(
                    phone=f"+999{n:09d}",
                    consent_status="opted_in",
                    consent_source="import",
                    channel="sms",
                )
                for n in range(SUBSCRIBERS)
            ),
            batch_size=5000,
        )
        spec = mirror.SUBSCRIBERS
        ddb = mirror.dynamodb()
        sent = _requests_counter(ddb)

        _fresh_table(ddb, spec.table)
        sample = min(PUT_SAMPLE, SUBSCRIBERS)
        started = time.perf_counter()
        rows = Subscriber.objects.order_by("pk")[:sample]
        for row in rows:
            mirror.put(spec, spec.to_item(row), mirror.older_than(row.version))
        put_seconds = time.perf_counter() - started
        put_requests = sent["PutItem"]

        _fresh_table(ddb, spec.table)
        sent.clear()
        started = time.perf_counter()
        result = mirror_bulk.backfill(spec)
        batch_seconds = time.perf_counter() - started
        batch_requests = sent["BatchWriteItem"] + sent["PutItem"]
        stored = ddb.describe_table(TableName=spec.table)["Table"].get("ItemCount")
    finally:
        server.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)

    put_rate = sample / put_seconds
    batch_rate = result.rows / batch_seconds
    return [
        f"PutItem, one per item (sample of {sample}): {put_rate:,.0f} items/s, "
        f"{put_requests / sample:.3f} requests/item",
        f"backfill of {result.rows:,} subscribers (BatchWriteItem, with checkpoint marks): "
        f"{batch_rate:,.0f} items/s, {batch_requests / result.rows:.3f} requests/item, "
        f"{batch_seconds:.1f}s; table holds {stored:,} items",
        f"ratio: {batch_rate / put_rate:.1f}× the items/s, "
        f"{(put_requests / sample) / (batch_requests / result.rows):.1f}× fewer requests",
    ]
