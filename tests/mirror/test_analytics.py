"""Nightly aggregates in the BotAnalytics table, written by the Celery task."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from messaging import task_names
from messaging.models import Message
from smsbot.celery import BULK_QUEUE, app
from subscribers.consent import change
from tests.mirror.conftest import wait_for

METRICS = {"messages_sent", "delivered", "failed", "opt_ins", "opt_outs", "spend_usd"}


def outbound(n: int, **fields) -> Message:
    return Message.objects.create(
        direction="outbound",
        kind="broadcast",
        provider="sns",
        phone=f"+131255501{n:02d}",
        body="Today's tip",
        **fields,
    )


def figures(ddb, day: str) -> dict[str, Decimal]:
    items = ddb.query(
        TableName="BotAnalytics",
        KeyConditionExpression="#d = :d",
        ExpressionAttributeNames={"#d": "date"},
        ExpressionAttributeValues={":d": {"S": day}},
        ConsistentRead=True,
    )["Items"]
    return {i["metric_type"]["S"]: Decimal(i["value"]["N"]) for i in items}


def test_daily_aggregates_are_written_for_the_day(celery_worker, tables):
    now = timezone.now()
    today = now.date().isoformat()
    yesterday = now - timedelta(days=1)
    outbound(1, status="delivered", sent_at=now, delivered_at=now, price_actual=Decimal("0.0075"))
    outbound(2, status="sent", sent_at=now, price_estimated=Decimal("0.00645"))
    outbound(3, status="failed", error_code="30003")
    outbound(4, status="delivered", sent_at=yesterday, price_estimated=Decimal("1"))
    Message.objects.create(
        direction="inbound", kind="inbound", provider="sns", phone="+13125550105", status="received"
    )
    change("+13125550110", "opted_in", "sms_keyword", {"text": "JOIN"})
    change("+13125550111", "opted_in", "web_form", {"ip": "192.0.2.1"})
    change("+13125550111", "opted_out", "sms_keyword", {"text": "STOP"})

    app.send_task(task_names.WRITE_DAILY_ANALYTICS, args=[today], queue=BULK_QUEUE)
    got = wait_for(lambda: (f := figures(tables, today)) and len(f) == 6 and f)
    assert got == {
        "messages_sent": 2,
        "delivered": 1,
        "failed": 1,
        "opt_ins": 2,
        "opt_outs": 1,
        "spend_usd": Decimal("0.01395"),
    }

    # Run again later in the day: the same six items, fresh figures.
    outbound(6, status="sent", sent_at=now, price_estimated=Decimal("0.00645"))
    app.send_task(task_names.WRITE_DAILY_ANALYTICS, args=[today], queue=BULK_QUEUE)
    wait_for(lambda: figures(tables, today).get("messages_sent") == 3)
    assert set(figures(tables, today)) == METRICS


def test_nightly_schedule_runs_yesterday_by_default(celery_worker, tables):
    entry = app.conf.beat_schedule["dynamodb-daily-analytics"]
    assert entry["task"] == task_names.WRITE_DAILY_ANALYTICS
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({0}, {15})

    app.send_task(entry["task"], queue=BULK_QUEUE)
    yesterday = (timezone.now().date() - timedelta(days=1)).isoformat()
    got = wait_for(lambda: figures(tables, yesterday))
    assert set(got) == METRICS and got["spend_usd"] == 0
