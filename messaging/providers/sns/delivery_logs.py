"""SMS delivery status and actual prices, read from the log groups SNS writes them to.

SNS never reports an SMS's delivery to a topic. With DeliveryStatusIAMRole set
it writes one JSON line per SMS to CloudWatch Logs, in
sns/<region>/<account>/DirectPublishToPhoneNumber (successes) and .../Failure,
as AWS documents in "Viewing Amazon CloudWatch metrics and logs for SMS
deliveries": notification.messageId (the Publish MessageId) and .timestamp,
delivery.priceInUSD, .providerResponse, .phoneCarrier, .mcc/.mnc, .dwellTimeMs,
.dwellTimeMsUntilDeviceAck, .destination, .smsType, and status SUCCESS or
FAILURE. A line comes when the carrier answers, up to 72 hours after the send.

Each log group has a durable cursor (DeliveryLogCursor): the event time of the
newest line read and the ids of the lines read within LATE_WINDOW of it. A run
reads from that time minus LATE_WINDOW with FilterLogEvents, so a line that
CloudWatch makes searchable a little after newer ones is still found, and skips
the ids it has already read, so nothing is applied twice. The first run looks
back LOOK_BACK (72 hours). Each page (up to 10,000 lines) is applied in bulk
through messaging.delivery.reports, like Twilio's callbacks, and the cursor
moves in the same transaction. Lines for messages the portal did not send are
counted and skipped; lines that are not the documented JSON are counted as
malformed.
"""

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from messaging.delivery import error_codes
from messaging.delivery import reports as delivery
from messaging.inbound import pipeline as inbound
from messaging.models import DeliveryLogCursor, Message, MessageStatus, Provider
from smsbot import aws
from smsbot.storable import field_text

log = logging.getLogger(__name__)

LOOK_BACK = timedelta(hours=72)
# How far behind the newest line read a line may still become searchable.
LATE_WINDOW = timedelta(minutes=5)
PAGE_SIZE = 10_000  # FilterLogEvents' largest page
# botocore's standard retry mode retries ThrottlingException (and 5xx, dropped
# connections) with exponential back-off and jitter, up to this many attempts.
MAX_ATTEMPTS = 8

_STATUSES = {"SUCCESS": MessageStatus.DELIVERED, "FAILURE": MessageStatus.UNDELIVERED}


class DeliveryLogError(RuntimeError):
    """CloudWatch Logs could not be read; str(exc) says why in one sentence."""


@dataclass
class GroupResult:
    log_group: str
    found: bool = True  # False: SNS has not created the log group yet
    lines: int = 0  # new lines read (not counting ones an earlier run read)
    applied: int = 0
    repeated: int = 0
    not_ours: int = 0
    malformed: int = 0
    newest: datetime | None = None


@dataclass
class FetchResult:
    groups: list[GroupResult] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(g, name) for g in self.groups)


def wanted(now: datetime | None = None) -> bool:
    """Whether a periodic read is worth it: SNS is the provider or sent in the last 72 hours."""
    if settings.SMS_PROVIDER == Provider.SNS:
        return True
    since = (now or timezone.now()) - LOOK_BACK
    return Message.objects.filter(provider=Provider.SNS, sent_at__gte=since).exists()


def fetch(since: datetime | None = None, *, now: datetime | None = None) -> FetchResult:
    """Read both log groups and apply what is new; since re-reads from that time."""
    now = now or timezone.now()
    result = FetchResult()
    try:
        for group in aws.sns_log_groups():
            result.groups.append(_fetch_group(group, since, now))
    except BotoCoreError as exc:
        raise DeliveryLogError(f"CloudWatch Logs cannot be read: {exc}") from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise DeliveryLogError(
            f"CloudWatch Logs cannot be read: {error.get('Code')} {error.get('Message', '')}"
        ) from exc
    return result


def _fetch_group(group: str, since: datetime | None, now: datetime) -> GroupResult:
    result = GroupResult(group)
    cursor, _ = DeliveryLogCursor.objects.get_or_create(log_group=group)
    result.newest = _time(cursor.position_ms) if cursor.position_ms else None
    if since is not None:
        start_ms = _ms(since)
    elif cursor.position_ms:
        start_ms = cursor.position_ms - _ms_of(LATE_WINDOW)
    else:
        start_ms = _ms(now - LOOK_BACK)
    try:
        for page in _pages(group, start_ms, _ms(now)):
            _apply_page(group, page, result)
    except _MissingGroup:
        result.found = False
    DeliveryLogCursor.objects.filter(pk=cursor.pk).update(read_at=now)
    return result


class _MissingGroup(Exception):
    pass


def _client() -> Any:
    return aws.client("logs", retry_mode="standard", attempts=MAX_ATTEMPTS)


def _pages(group: str, start_ms: int, end_ms: int) -> Iterator[list[dict[str, Any]]]:
    """FilterLogEvents pages, oldest event first, until no nextToken is left.

    interleaved is deprecated and ignored by AWS, which always merges the streams
    in event-time order; it makes moto's server do the same.
    """
    pages = (
        _client()
        .get_paginator("filter_log_events")
        .paginate(
            logGroupName=group,
            startTime=start_ms,
            endTime=end_ms,
            interleaved=True,
            PaginationConfig={"PageSize": PAGE_SIZE},
        )
    )
    try:
        # A page may be empty and still carry a token: the paginator follows it.
        for page in pages:
            yield page.get("events", [])
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise _MissingGroup from exc
        message = exc.response.get("Error", {}).get("Message", "")
        raise DeliveryLogError(f"{group}: {code} {message}".strip()) from exc


def _apply_page(group: str, events: list[dict[str, Any]], result: GroupResult) -> None:
    with transaction.atomic():
        cursor = DeliveryLogCursor.objects.select_for_update().get(log_group=group)
        recent: dict[str, int] = dict(cursor.recent_ids)
        reports: list[delivery.Report] = []
        malformed: list[str] = []
        for event in events:
            event_id, stamp = str(event["eventId"]), int(event["timestamp"])
            if event_id in recent:
                continue
            recent[event_id] = stamp
            report = parse(event.get("message", ""), group=group, event_id=event_id)
            if report is None:
                malformed.append(event_id)
            else:
                reports.append(report)
        applied = delivery.apply_many(reports, keep_unknown=False)
        new_lines = len(reports) + len(malformed)
        position = max([cursor.position_ms, *recent.values()])
        floor = position - _ms_of(LATE_WINDOW)
        cursor.recent_ids = {i: t for i, t in recent.items() if t >= floor}
        cursor.position_ms = position
        cursor.applied += applied.applied
        cursor.not_ours += applied.unknown
        cursor.malformed += len(malformed)
        cursor.save(update_fields=["recent_ids", "position_ms", "applied", "not_ours", "malformed"])
    result.newest = _time(position) if position else None
    result.lines += new_lines
    result.applied += applied.applied
    result.repeated += applied.repeated
    result.not_ours += applied.unknown
    result.malformed += len(malformed)
    if malformed:
        log.warning(
            "%s: %d line(s) not in SNS's delivery log format skipped (first: event %s)",
            group,
            len(malformed),
            malformed[0],
        )


def parse(text: str, *, group: str = "", event_id: str = "") -> delivery.Report | None:
    """The delivery report in one log line, or None when the line is not one."""
    try:
        line = json.loads(text)
    except (ValueError, RecursionError, TypeError):
        return None
    if not isinstance(line, dict):
        return None
    notification, details = line.get("notification"), line.get("delivery")
    if not isinstance(notification, dict) or not isinstance(details, dict | None):
        return None
    details = details or {}
    message_id = field_text(notification, "messageId")
    status = _STATUSES.get(field_text(line, "status").upper())
    if not message_id or len(message_id) > inbound.MAX_ID_LENGTH or status is None:
        return None
    response = field_text(details, "providerResponse")
    failed = status == MessageStatus.UNDELIVERED
    price = details.get("priceInUSD")
    return delivery.Report(
        provider=Provider.SNS,
        provider_message_id=message_id,
        status=status,
        # SNS writes one line per SMS and outcome: a repeated line is the same report.
        dedupe_key=f"sns:{message_id}:{status}",
        error_code=error_codes.sns_delivery_code(response) if failed else "",
        error_message=response if failed else "",
        price=None if price is None else delivery.parse_price(price),
        price_unit="USD" if price is not None else "",
        payload={**line, "cloudWatch": {"logGroup": group, "eventId": event_id}},
    )


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _ms_of(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
