"""SNS's SMS delivery log lines, written into moto's CloudWatch Logs as SNS would.

moto's SNS does not log deliveries. This writes the lines AWS documents in
"Viewing Amazon CloudWatch metrics and logs for SMS deliveries" into the log
groups SNS uses (sns/<region>/<account>/DirectPublishToPhoneNumber and
.../Failure), over moto's HTTP API, each line an event of its own with an
event time, like SNS's writes:

    logs = SnsDeliveryLogs(boto3 logs client, "us-east-1", "123456789012")
    logs.write(logs.success(message_id, "+13125550123", price="0.00581"), at=when)
    logs.write(logs.failure(message_id, phone, "Phone is currently unreachable/unavailable"))
"""

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from smsbot.aws_names import sns_sms_log_groups

# PutLogEvents takes at most 10,000 events and 1 MB a call; a line is about 400 bytes.
BATCH = 2000


def _stamp(moment: datetime) -> str:
    """notification.timestamp as SNS writes it: UTC, milliseconds, a space, no zone."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


class SnsDeliveryLogs:
    def __init__(self, logs: Any, region: str, account: str) -> None:
        self.logs = logs
        self.success_group, self.failure_group = sns_sms_log_groups(region, account)
        self.streams: dict[str, str] = {}

    def _stream(self, group: str, name: str | None = None) -> str:
        """SNS writes through several streams; each group gets its own random names."""
        key = f"{group}:{name or 'default'}"
        if key not in self.streams:
            existing = self.logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
            if not any(g["logGroupName"] == group for g in existing):
                self.logs.create_log_group(logGroupName=group)
            stream = name or str(uuid.uuid4())
            self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
            self.streams[key] = stream
        return self.streams[key]

    def success(
        self,
        message_id: str,
        destination: str,
        *,
        price: str = "0.00645",
        published: datetime | None = None,
        carrier: str = "Example Wireless",
    ) -> str:
        return self.line(
            message_id,
            destination,
            status="SUCCESS",
            price=price,
            response="Message has been accepted by phone carrier",
            published=published,
            carrier=carrier,
        )

    def failure(
        self,
        message_id: str,
        destination: str,
        response: str = "Unknown error attempting to reach phone",
        *,
        price: str = "0.00645",
        published: datetime | None = None,
    ) -> str:
        return self.line(
            message_id, destination, status="FAILURE", price=price, response=response,
            published=published, carrier=None,
        )  # fmt: skip

    def line(
        self,
        message_id: str,
        destination: str,
        *,
        status: str,
        price: str,
        response: str,
        published: datetime | None,
        carrier: str | None,
    ) -> str:
        delivery: dict[str, Any] = {
            "mnc": 270 if carrier else 0,
            "destination": destination,
            # A JSON number in SNS's lines, not a string.
            "priceInUSD": float(price),
            "smsType": "Transactional",
            "mcc": 310 if carrier else 0,
            "providerResponse": response,
            "dwellTimeMs": 599,
            "dwellTimeMsUntilDeviceAck": 1344,
        }
        if carrier:
            delivery["phoneCarrier"] = carrier
        notification = {
            "messageId": message_id,
            "timestamp": _stamp(published or datetime.now(UTC) - timedelta(seconds=2)),
        }
        return json.dumps({"notification": notification, "delivery": delivery, "status": status})

    def write(
        self,
        lines: str | Iterable[str],
        *,
        at: datetime | None = None,
        spacing: timedelta = timedelta(milliseconds=1),
        stream: str | None = None,
        failures: bool | None = None,
    ) -> None:
        """Put lines as events from `at` on (now by default), `spacing` apart.

        A line goes to the Failure group when its status is FAILURE, unless
        `failures` says where (malformed lines have no status).
        """
        batch = [lines] if isinstance(lines, str) else list(lines)
        start = at or datetime.now(UTC)
        by_group: dict[str, list[dict[str, Any]]] = {}
        for index, text in enumerate(batch):
            failed = failures if failures is not None else '"status": "FAILURE"' in text
            group = self.failure_group if failed else self.success_group
            moment = start + spacing * index
            by_group.setdefault(group, []).append(
                {"timestamp": int(moment.timestamp() * 1000), "message": text}
            )
        for group, events in by_group.items():
            name = self._stream(group, stream)
            for i in range(0, len(events), BATCH):
                self.logs.put_log_events(
                    logGroupName=group, logStreamName=name, logEvents=events[i : i + BATCH]
                )


def insert_sent_sns_messages(provider_ids: list[str], subscriber: Any) -> None:
    """Messages as SNS sends leave them (sent, with these Publish MessageIds), inserted
    with one prepared statement: the ORM's bulk_create splits rows at SQLite's 999
    parameters, which makes 50,000 take a minute."""
    from django.db import connection
    from django.utils import timezone

    from messaging.billing import build
    from messaging.models import Message

    template = build.outbound(
        kind="reply", channel="sms", provider="sns", phone=subscriber.phone, body="Daily word",
        subscriber=subscriber, status="sent", sent_at=timezone.now(),
    )  # fmt: skip
    fields = [f for f in Message._meta.concrete_fields if not f.primary_key]
    values = {f.name: f.get_db_prep_save(f.pre_save(template, True), connection) for f in fields}
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = connection.ops.quote_name(Message._meta.db_table)
    rows = [
        [provider_id if f.name == "provider_message_id" else values[f.name] for f in fields]
        for provider_id in provider_ids
    ]
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
