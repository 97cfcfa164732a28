"""Whole-table work on the DynamoDB mirror: backfill, push, drift check and repair."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from subscribers.mirror.write import (
    ABSENT,
    BATCH_SIZE,
    MirrorSpec,
    batch_write,
    delete,
    deserialize,
    dynamodb,
    mark_synced,
    put,
    put_request,
    reconcile_key,
    serialize,
    sync_pk,
    sync_row,
    unchanged_since,
)

ROWS_PER_QUERY = 500


def rows_after(spec: MirrorSpec, start_after: int = 0) -> Iterator[list[Any]]:
    """Live rows in id order after start_after, in lists of up to ROWS_PER_QUERY."""
    cursor = start_after
    while True:
        rows = list(spec.live().filter(pk__gt=cursor).order_by("pk")[:ROWS_PER_QUERY])
        if not rows:
            return
        yield rows
        cursor = rows[-1].pk


@dataclass
class BackfillResult:
    rows: int = 0
    batches: int = 0
    # Rows that changed while their batch was in flight, then written conditionally.
    rewritten: int = 0
    last_pk: int = 0


def backfill(
    spec: MirrorSpec,
    start_after: int = 0,
    on_batch: Callable[[BackfillResult, int], None] | None = None,
) -> BackfillResult:
    """Push every live row after start_after with BatchWriteItem, 25 items a request.

    BatchWriteItem cannot be conditional, so a batch could replace an item that
    a mirror task wrote from a newer version meanwhile. After each batch the
    rows' versions are read again: any row that changed is written once more
    with the usual version condition. A change committed after that re-read has
    its own mirror task, which runs after commit and so after the batch.
    """
    result = BackfillResult(last_pk=start_after)
    for rows in rows_after(spec, start_after):
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start : start + BATCH_SIZE]
            batch_write(spec.table, [put_request(spec.to_item(row)) for row in batch])
            result.rewritten += _catch_up(spec, batch)
            result.rows += len(batch)
            result.batches += 1
            result.last_pk = batch[-1].pk
            if on_batch is not None:
                on_batch(result, len(batch))
    return result


def _catch_up(spec: MirrorSpec, batch: list[Any]) -> int:
    written = {row.pk: row.version for row in batch}
    current = dict(spec.live().filter(pk__in=written).values_list("pk", "version"))
    changed = [row for row in batch if current.get(row.pk) != row.version]
    mark_synced(spec, [(pk, v) for pk, v in written.items() if current.get(pk) == v])
    for row in changed:
        if row.pk in current:
            sync_pk(spec, row.pk)
        else:
            # Erased (or deleted) under the batch: its removal may already have run.
            reconcile_key(spec, getattr(row, spec.key))
    return len(changed)


def push_all(spec: MirrorSpec, on_row: Callable[[bool], None] | None = None) -> int:
    """Write every live row with a conditional PutItem; returns how many were written."""
    written = 0
    for rows in rows_after(spec):
        for row in rows:
            done = sync_row(spec, row)
            written += done
            if on_row is not None:
                on_row(done)
    return written


@dataclass
class Drift:
    spec: MirrorSpec
    rows: int = 0
    items: int = 0
    missing: list[str] = field(default_factory=list)
    # key -> the raw version attribute the check saw (None when absent)
    extra: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    different: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.different)


def verify(spec: MirrorSpec) -> Drift:
    """Compare every live row with every item (a paginated, consistent scan)."""
    drift = Drift(spec)
    expected: dict[str, dict[str, Any]] = {}
    for rows in rows_after(spec):
        for row in rows:
            # Through the serializer and back, so numbers compare as Decimals.
            expected[getattr(row, spec.key)] = deserialize(serialize(spec.to_item(row)))
    drift.rows = len(expected)
    pages = dynamodb().get_paginator("scan").paginate(TableName=spec.table, ConsistentRead=True)
    for page in pages:
        for raw in page["Items"]:
            item = deserialize(raw)
            drift.items += 1
            key = item.get(spec.key)
            version = raw.get("version")
            want = expected.pop(key, None)
            if want is None:
                drift.extra[key] = version
            elif want != item:
                drift.different[key] = version
    drift.missing = sorted(expected)
    return drift


@dataclass
class RepairResult:
    written: int = 0
    deleted: int = 0
    # Changed again since the check; the next verify will look at them afresh.
    skipped: int = 0


def repair(drift: Drift) -> RepairResult:
    """Fix what verify found, touching only items still as the check saw them."""
    spec = drift.spec
    result = RepairResult()
    targets = {key: ABSENT for key in drift.missing}
    targets.update({key: unchanged_since(v) for key, v in drift.different.items()})
    keys = list(targets)
    for start in range(0, len(keys), ROWS_PER_QUERY):
        chunk = keys[start : start + ROWS_PER_QUERY]
        rows = spec.live().filter(**{f"{spec.key}__in": chunk})
        for row in rows:
            key = getattr(row, spec.key)
            if put(spec, spec.to_item(row), targets.pop(key)):
                result.written += 1
                mark_synced(spec, [(row.pk, row.version)])
            else:
                result.skipped += 1
    result.skipped += len(targets)  # rows gone since the check
    for key, version in drift.extra.items():
        if delete(spec, key, unchanged_since(version)):
            result.deleted += 1
        else:
            result.skipped += 1
    return result
