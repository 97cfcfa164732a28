"""The DynamoDB mirror of subscribers and conversations: items and safe writes.

The database owns the data; DynamoDB carries a copy in the original tables'
schemas for the consumers that read them. Every single-item write is
conditional on the row's version, so a late or retried write never replaces
newer data, and losing that condition counts as success.
"""

import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from django.conf import settings
from django.db import models
from django.db.models.functions import Greatest
from django.utils import timezone

from smsbot.aws import client, resource_name
from smsbot.redaction import redact
from subscribers import task_names
from subscribers.models import Conversation, Subscriber

# Errors worth trying again: the table is busy or AWS had a bad moment.
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
    }
)
BATCH_SIZE = 25  # BatchWriteItem's limit

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class MirrorError(RuntimeError):
    """A write that could not be completed after every retry."""


class MirrorUnavailable(MirrorError):
    """The mirror cannot work at all: no table, no credentials, no endpoint."""


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def subscriber_item(sub: Subscriber) -> dict[str, Any]:
    """The BotSubscribers item, with the attribute names the original table uses."""
    return _without_none(
        {
            "phone": sub.phone,
            "consent_status": sub.consent_status,
            "channel": sub.channel,
            "source": sub.consent_source,
            "timestamp_iso": iso(sub.updated_at),
            "opted_in_at": iso(sub.opted_in_at),
            "opted_out_at": iso(sub.opted_out_at),
            # Delivery windows: the zone, "19:30" local, and when a pause ends.
            "timezone": sub.timezone or None,
            "preferred_time": f"{sub.preferred_time:%H:%M}" if sub.preferred_time else None,
            "paused_until": iso(sub.paused_until),
            # The address as the number is (raw; the item goes at erasure), its own
            # consent and a hard bounce; absent when the subscriber has none.
            "email": sub.email or None,
            "email_status": sub.email_status or None,
            "email_undeliverable": True if sub.email_undeliverable else None,
            "version": sub.version,
        }
    )


def conversation_item(conv: Conversation) -> dict[str, Any]:
    """The BotConversations item."""
    return {
        "phone_number": conv.phone_number,
        "created_at": iso(conv.created_at),
        "updated_at": iso(conv.updated_at),
        "message_count": conv.message_count,
        "conversation_state": conv.conversation_state,
        "last_message": conv.last_message,
        "last_response": conv.last_response,
        # DynamoDB numbers are Decimals; a JSON float would be refused.
        "user_context": json.loads(json.dumps(conv.user_context or {}), parse_float=Decimal),
        "version": conv.version,
    }


def _without_none(item: dict[str, Any]) -> dict[str, Any]:
    # An unset timestamp is an absent attribute, as in the original table.
    return {k: v for k, v in item.items() if v is not None}


@dataclass(frozen=True)
class MirrorSpec:
    """One mirrored model: its table, key and item mapping."""

    name: str
    model: type[models.Model]
    table_setting: str
    key: str  # the model field and the table's partition key share this name
    to_item: Callable[[Any], dict[str, Any]]
    task_name: str
    live_filter: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return resource_name(getattr(settings, self.table_setting))

    def live(self) -> models.QuerySet:
        """The rows that belong in the table (erased subscribers do not)."""
        return self.model.objects.filter(**self.live_filter)

    def item_key(self, key: str) -> dict[str, Any]:
        return {self.key: {"S": key}}


SUBSCRIBERS = MirrorSpec(
    name="subscribers",
    model=Subscriber,
    table_setting="DYNAMODB_SUBSCRIBERS_TABLE",
    key="phone",
    to_item=subscriber_item,
    task_name=task_names.MIRROR_SUBSCRIBER,
    live_filter={"erased_at__isnull": True},
)
CONVERSATIONS = MirrorSpec(
    name="conversations",
    model=Conversation,
    table_setting="DYNAMODB_CONVERSATIONS_TABLE",
    key="phone_number",
    to_item=conversation_item,
    task_name=task_names.MIRROR_CONVERSATION,
)
SPECS = {spec.name: spec for spec in (SUBSCRIBERS, CONVERSATIONS)}


def spec_for(model: type[models.Model]) -> MirrorSpec:
    return next(spec for spec in SPECS.values() if spec.model is model)


def dynamodb() -> Any:
    return client(
        "dynamodb",
        retry_mode=settings.DYNAMODB_RETRY_MODE,
        attempts=settings.DYNAMODB_MAX_ATTEMPTS,
    )


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items()}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code", "")
    return ""


def describe_error(exc: BaseException) -> str:
    return redact(f"{type(exc).__name__}: {exc}")[:1000]


# --- Conditions ------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    expression: str
    values: dict[str, Any]

    def kwargs(self, spec: MirrorSpec) -> dict[str, Any]:
        names = {"#k": spec.key, "#v": "version"}
        used = {n: v for n, v in names.items() if n in self.expression}
        out: dict[str, Any] = {"ConditionExpression": self.expression}
        if used:
            out["ExpressionAttributeNames"] = used
        if self.values:
            out["ExpressionAttributeValues"] = self.values
        return out


def older_than(version: int) -> Condition:
    """The normal mirror write: only over nothing or an older version."""
    return Condition("attribute_not_exists(#k) OR #v < :v", {":v": {"N": str(version)}})


def unchanged_since(seen_version: dict[str, Any] | None) -> Condition:
    """Repair: only over exactly the item the drift check saw (its raw version value)."""
    if seen_version is None:
        return Condition("attribute_exists(#k) AND attribute_not_exists(#v)", {})
    return Condition("#v = :seen", {":seen": seen_version})


ABSENT = Condition("attribute_not_exists(#k)", {})


# --- Single-item writes ------------------------------------------------------------


def put(spec: MirrorSpec, item: dict[str, Any], condition: Condition) -> bool:
    """Write item if condition holds; False when it does not (someone was first)."""
    try:
        dynamodb().put_item(TableName=spec.table, Item=serialize(item), **condition.kwargs(spec))
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def delete(spec: MirrorSpec, key: str, condition: Condition | None = None) -> bool:
    kwargs = condition.kwargs(spec) if condition else {}
    try:
        dynamodb().delete_item(TableName=spec.table, Key=spec.item_key(key), **kwargs)
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def sync_row(spec: MirrorSpec, row: Any) -> bool:
    """Mirror one row at its current version; True if this call wrote it."""
    written = put(spec, spec.to_item(row), older_than(row.version))
    # Lost the condition: this version or a newer one is already in the table.
    mark_synced(spec, [(row.pk, row.version)])
    return written


def sync_pk(spec: MirrorSpec, pk: int) -> bool:
    """Mirror the row with this id as it is now; rows gone or erased are skipped."""
    row = spec.live().filter(pk=pk).first()
    return sync_row(spec, row) if row is not None else False


def reconcile_key(spec: MirrorSpec, key: str) -> None:
    """Make the item for key match the database: delete it, or rewrite it if a row holds key."""
    delete(spec, key)
    row = spec.live().filter(**{spec.key: key}).first()
    if row is not None:
        # A new row took the number after the old one was erased: the old item
        # may have carried a higher version, so the write follows the delete.
        sync_row(spec, row)


def mark_synced(spec: MirrorSpec, written: Iterable[tuple[int, int]]) -> None:
    """Record what reached the table. update() keeps version and post_save untouched."""
    by_version: dict[int, list[int]] = {}
    for pk, version in written:
        by_version.setdefault(version, []).append(pk)
    now = timezone.now()
    for version, pks in by_version.items():
        spec.model.objects.filter(pk__in=pks).update(
            mirror_synced_version=Greatest("mirror_synced_version", models.Value(version)),
            mirror_synced_at=now,
            mirror_error="",
        )


def record_error(spec: MirrorSpec, pk: int, exc: BaseException) -> None:
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M:%S UTC")
    spec.model.objects.filter(pk=pk).update(mirror_error=f"{stamp} {describe_error(exc)}")


# --- Batches -------------------------------------------------------------------------


def retry_delay(attempt: int, base: float = 0.1, cap: float = 10.0) -> float:
    """Exponential back-off with jitter for attempt 1, 2, ..."""
    return min(cap, base * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def batch_write(table: str, requests: list[dict[str, Any]]) -> None:
    """BatchWriteItem for up to 25 requests, retrying throttling and UnprocessedItems."""
    rounds = settings.DYNAMODB_BATCH_ROUNDS
    pending = requests
    last_problem = ""
    for attempt in range(rounds):
        if attempt:
            time.sleep(retry_delay(attempt))
        try:
            response = dynamodb().batch_write_item(RequestItems={table: pending})
        except ClientError as exc:
            if error_code(exc) not in RETRYABLE_CODES:
                raise
            last_problem = describe_error(exc)
            continue
        pending = response.get("UnprocessedItems", {}).get(table, [])
        if not pending:
            return
        last_problem = f"{len(pending)} unprocessed items"
    raise MirrorError(f"BatchWriteItem to {table} gave up after {rounds} rounds: {last_problem}")


def put_request(item: dict[str, Any]) -> dict[str, Any]:
    return {"PutRequest": {"Item": serialize(item)}}


def check_tables(specs: Iterable[MirrorSpec]) -> None:
    """Raise MirrorUnavailable with a one-line reason when a table cannot be used."""
    for spec in specs:
        try:
            dynamodb().describe_table(TableName=spec.table)
        except NoCredentialsError as exc:
            raise MirrorUnavailable("AWS credentials are missing (set AWS_ACCESS_KEY_ID…)") from exc
        except ClientError as exc:
            code = error_code(exc)
            if code == "ResourceNotFoundException":
                raise MirrorUnavailable(
                    f"DynamoDB table {spec.table} does not exist (create it with provision_aws)"
                ) from exc
            raise MirrorUnavailable(f"DynamoDB table {spec.table}: {describe_error(exc)}") from exc
        except BotoCoreError as exc:
            raise MirrorUnavailable(f"DynamoDB is unreachable: {describe_error(exc)}") from exc
