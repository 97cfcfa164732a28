"""Delivery reports (Twilio status callbacks, SNS delivery log lines, End User Messaging
SMS events) applied to messages.

Every report is kept once as a DeliveryEvent; the message's status only moves
forward (STATUS_RANK), so a late "sent" never overwrites "delivered". One
callback or a page of 10,000 log lines takes the same path (apply_many).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from messaging import task_names
from messaging.delivery import actions, brake, error_codes
from messaging.models import STATUS_RANK, DeliveryEvent, Message, MessageStatus
from messaging.outcomes import progress_soon
from smsbot import metrics, outbox
from smsbot.aws_names import METRIC_DELIVERED, METRIC_UNDELIVERED
from smsbot.celery import REPLIES_QUEUE
from smsbot.redaction import redact_data
from smsbot.storable import clean_data

log = logging.getLogger(__name__)

# Twilio's status words that are not ours.
_ALIASES = {
    # Some parts (segments, or media) arrived: it reached the phone, and is billed.
    "partially_delivered": MessageStatus.DELIVERED,
    "accepted": MessageStatus.QUEUED,
    "scheduled": MessageStatus.QUEUED,
    "canceled": MessageStatus.FAILED,
}
# DeliveryEvent.price: max_digits=10, decimal_places=5.
_PRICE_LIMIT = Decimal("100000")


@dataclass(frozen=True)
class Report:
    provider: str
    provider_message_id: str
    status: str  # the provider's word, e.g. "delivered", "undelivered"
    dedupe_key: str
    error_code: str = ""
    error_message: str = ""
    price: Decimal | None = None
    price_unit: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    # The portal's own id of the message, where the provider echoes it back (Twilio's
    # status callback URL carries it): it finds a send whose answer was lost.
    message_id: int | None = None
    # How many parts (segments) the provider billed, where it says (End User Messaging SMS).
    parts: int | None = None

    @classmethod
    def from_event(cls, event: DeliveryEvent) -> "Report":
        """The report as it was kept."""
        return cls(
            provider=event.provider,
            provider_message_id=event.provider_message_id,
            status=event.status,
            dedupe_key=event.dedupe_key,
            error_code=event.error_code,
            price=event.price,
            price_unit=event.price_unit,
            payload=event.payload,
        )


def parse_price(raw: object) -> Decimal | None:
    """Twilio reports "-0.00750"; the cost is its absolute value. Junk is None."""
    try:
        value = abs(Decimal(str(raw).strip()))
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value >= _PRICE_LIMIT:
        return None
    return value.quantize(Decimal("0.00001"))


def our_status(word: str) -> str | None:
    word = word.strip().lower()
    if word in _ALIASES:
        return _ALIASES[word]
    # Unknown is ours to say (the horizon passed), never a provider's.
    return word if word in STATUS_RANK and word != MessageStatus.UNKNOWN else None


@dataclass
class Applied:
    """What apply_many did with a batch of reports."""

    applied: int = 0  # recorded, and applied to a message of ours
    repeated: int = 0  # recorded before (the same dedupe key): nothing done
    unknown: int = 0  # for no message of ours (kept only when keep_unknown)
    events: list[DeliveryEvent] = field(default_factory=list)


def apply(report: Report) -> DeliveryEvent | None:
    """Record the report and move its message forward; None for a repeated report.

    A report for a message not (yet) written is kept, so that the sweep can join
    it once the send is written (adopt_early_reports).
    """
    applied = apply_many([report], keep_unknown=True)
    return applied.events[0] if applied.events else None


def apply_many(reports: Sequence[Report], *, keep_unknown: bool) -> Applied:
    """Apply a batch in a few statements: the path every delivery report takes.

    Each report is recorded once (its dedupe key) as a DeliveryEvent, and its
    message moves forward only. The batch's messages are read and locked in one
    query (so a concurrent copy of a report waits, then finds it recorded), the
    events written in one bulk insert and the messages in one bulk update.
    Reports for no message of ours are counted, and kept only when keep_unknown.
    """
    result = Applied()
    unique: dict[str, Report] = {}
    for report in reports:
        unique.setdefault(report.dedupe_key[:200], report)
    result.repeated = len(reports) - len(unique)
    with transaction.atomic():
        messages = _locked_messages({r.provider_message_id for r in unique.values()})
        now = timezone.now()
        for report in unique.values():
            key = (report.provider, report.provider_message_id)
            if report.message_id is not None and key not in messages:
                settled = _settle_lost_answer(report, now)
                if settled is not None:
                    messages[key] = settled
        seen = _recorded_keys(list(unique))
        before: dict[int, str] = {}
        changes: dict[int, dict[str, Any]] = {}
        events: list[DeliveryEvent] = []
        for key, report in unique.items():
            if key in seen:
                result.repeated += 1
                continue
            message = messages.get((report.provider, report.provider_message_id))
            if message is not None:
                before.setdefault(message.pk, message.status)
                changes.setdefault(message.pk, {}).update(_advance(message, report, now))
                result.applied += 1
            else:
                result.unknown += 1
                if not keep_unknown:
                    continue
                log.warning(
                    "delivery report for unknown %s message %s",
                    report.provider,
                    report.provider_message_id,
                )
            events.append(_event(report, message))
        result.events = _insert_events(events, result)
        _write_changes(changes)
        for event in result.events:
            if event.message is not None and event.error_code:
                _act_on_error(event.message, event)
        # Only a failure can raise a broadcast's failure rate: one check per such broadcast.
        for broadcast_id in sorted(
            {
                e.broadcast_id
                for e in result.events
                if e.broadcast_id and our_status(e.status) in brake.FAILED_REPORTS
            }
        ):
            brake.check(broadcast_id)
    moved = [(m, before[m.pk]) for m in messages.values() if m.pk in before]
    _count_outcomes(moved)
    # The broadcast's stored counts follow its delivery reports as they follow its sends.
    for broadcast_id in {m.broadcast_id for m, _ in moved if m.broadcast_id}:
        progress_soon(broadcast_id)
    return result


def _write_changes(changes: dict[int, dict[str, Any]]) -> None:
    """One UPDATE per set of identical changes: a page of reports mostly says the same.

    (Django's bulk_update builds a CASE per row and field, which costs seconds per
    thousand rows; these groups are few: a status, the time, a price per country.)
    """
    groups: dict[tuple[tuple[str, Any], ...], list[int]] = {}
    for pk, fields in changes.items():
        groups.setdefault(tuple(sorted(fields.items())), []).append(pk)
    for fields, pks in groups.items():
        for start in range(0, len(pks), _CHUNK):
            Message.objects.filter(pk__in=pks[start : start + _CHUNK]).update(**dict(fields))


# Parameters per query, well inside SQLite's and PostgreSQL's limits.
_CHUNK = 2000


def _recorded_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        found.update(
            DeliveryEvent.objects.filter(dedupe_key__in=chunk).values_list("dedupe_key", flat=True)
        )
    return found


def _locked_messages(provider_ids: set[str]) -> dict[tuple[str, str], Message]:
    """The messages the reports are about, locked for this transaction in id order."""
    ids = sorted(provider_ids)
    found: dict[tuple[str, str], Message] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = (
            Message.objects.select_for_update(of=("self",))
            .filter(provider_message_id__in=ids[start : start + _CHUNK])
            .only(*_READ_FIELDS)
            .order_by("pk")
        )
        found.update({(m.provider, m.provider_message_id): m for m in rows})
    return found


# What applying a report reads of a message (the rest is never loaded).
_READ_FIELDS = (
    "provider", "provider_message_id", "status", "sent_at", "delivered_at", "phone", "channel",
    "broadcast_id",  # whose counts to refresh after (progress_soon)
)  # fmt: skip


def _settle_lost_answer(report: Report, now: datetime) -> Message | None:
    """The message this report names by our own id, if its send's answer was lost.

    A send that timed out after the request went out, or whose worker died mid-call,
    is "sending" or "needs review" with no provider id. The provider's callback
    proves it took the message: it takes the provider's id and counts as sent (never
    sent again), and the report then applies as to any other message. A Twilio
    answer in TwiML is recorded "sent" with the response and no id: its callback
    (the TwiML's action URL) gives it one the same way.
    """
    message = (
        Message.objects.select_for_update(of=("self",))
        .filter(
            Q(status__in=[MessageStatus.SENDING, MessageStatus.NEEDS_REVIEW])
            # A TwiML answer: recorded sent with the response, its id known only now.
            | Q(status=MessageStatus.SENT, in_reply_to__isnull=False),
            pk=report.message_id,
            provider=report.provider,
            provider_message_id__isnull=True,
        )
        .only(*_READ_FIELDS)
        .first()
    )
    if message is None:
        return None
    settled = {
        "provider_message_id": report.provider_message_id,
        "status": MessageStatus.SENT,
        "sent_at": message.sent_at or now,
        "error_code": "",
        "error_message": "",
        "updated_at": now,
    }
    Message.objects.filter(pk=message.pk).update(**settled)
    for name, value in settled.items():
        setattr(message, name, value)
    log.info("message %s: its lost send was settled by the provider's callback", message.pk)
    return message


def _event(report: Report, message: Message | None) -> DeliveryEvent:
    return DeliveryEvent(
        message=message,
        broadcast_id=message.broadcast_id if message is not None else None,
        provider=report.provider,
        provider_message_id=report.provider_message_id,
        dedupe_key=report.dedupe_key[:200],
        status=report.status[:20],
        error_code=report.error_code[:20],
        price=report.price,
        price_unit=report.price_unit[:3],
        payload=clean_data(redact_data(report.payload)),
    )


def _insert_events(events: list[DeliveryEvent], result: Applied) -> list[DeliveryEvent]:
    """Insert the events in bulk.

    Reports about a message of ours were checked under that message's lock; one
    about an unknown message may have been recorded by a concurrent request
    meanwhile, and is then skipped here as repeated.
    """
    try:
        with transaction.atomic():
            return DeliveryEvent.objects.bulk_create(events, batch_size=1000)
    except IntegrityError:
        pass
    kept = []
    for event in events:
        try:
            with transaction.atomic():
                event.save()
        except IntegrityError:
            log.info("delivery report %s already recorded", event.dedupe_key)
            result.repeated += 1
            result.unknown -= 1
            continue
        kept.append(event)
    return kept


def adopt_early_reports(within: timedelta = timedelta(days=1)) -> int:
    """Apply reports that came in before their send was recorded; returns how many.

    A provider can call back before the worker has written its answer (sends are
    written a few at a time): apply() keeps such a report without a message, and
    the periodic sweep joins it to the message here once that is written.
    """
    written = Message.objects.filter(
        provider=OuterRef("provider"), provider_message_id=OuterRef("provider_message_id")
    )
    early = DeliveryEvent.objects.filter(
        Exists(written), message__isnull=True, received_at__gte=timezone.now() - within
    ).order_by("received_at", "id")
    adopted = 0
    for event in early:
        with transaction.atomic():
            message = _locked_message(
                provider=event.provider, provider_message_id=event.provider_message_id
            )
            if message is None:
                continue
            event.message = message
            event.broadcast_id = message.broadcast_id
            event.save(update_fields=["message", "broadcast"])
            _apply_to(message, Report.from_event(event))
        adopted += 1
    return adopted


def _locked_message(**lookup: str) -> Message | None:
    """The message a report is about, locked for this transaction, with its subscriber."""
    return (
        Message.objects.select_for_update(of=("self",))
        .select_related("subscriber")
        .filter(**lookup)
        .first()
    )


def _apply_to(message: Message, report: Report) -> None:
    before = message.status
    message.save(update_fields=list(_advance(message, report, timezone.now())))
    if report.error_code:
        _act_on_error(message, report)
    _count_outcomes([(message, before)])


# Actions on the message and its broadcast, which a worker applies after the report
# is recorded (messaging.outbound.provider_errors).
_LATER = {
    error_codes.Action.REGISTRATION,
    error_codes.Action.RESEND_AS_TEMPLATE,
    error_codes.Action.MARKETING_TEMPLATE,
    error_codes.Action.RETRY_LATER,
}


def _act_on_error(message: Message, report: Report | DeliveryEvent) -> None:
    action = actions.act_on_error(
        phone=message.phone,
        code=report.error_code,
        provider=report.provider,
        provider_message_id=report.provider_message_id,
        message_id=message.pk,
    )
    if action in _LATER:
        outbox.enqueue(
            task_names.ACT_ON_PROVIDER_ERROR,
            message.pk,
            report.error_code,
            report.provider_message_id,
            queue=REPLIES_QUEUE,
        )


def _advance(message: Message, report: Report, now: datetime) -> dict[str, Any]:
    """Move the message forward with what the report says, in memory; returns the
    fields that changed, for the caller to write."""
    changes: dict[str, Any] = {"updated_at": now}
    status = our_status(report.status)
    if status is not None and STATUS_RANK[status] > STATUS_RANK.get(message.status, -1):
        changes["status"] = status
        if STATUS_RANK[status] >= STATUS_RANK[MessageStatus.SENT] and message.sent_at is None:
            changes["sent_at"] = now
        if status in (MessageStatus.DELIVERED, MessageStatus.READ) and not message.delivered_at:
            changes["delivered_at"] = now
    if report.error_code or report.error_message:
        changes["error_code"] = report.error_code[:20]
        changes["error_message"] = report.error_message or error_codes.meaning(report.error_code)
    if report.parts is not None:
        changes["segments"] = report.parts
    if report.price is not None:
        changes["price_actual"] = report.price
        changes["price_unit"] = (report.price_unit or "USD")[:3].upper()
    for name, value in changes.items():
        setattr(message, name, value)
    return changes


_DELIVERED = {MessageStatus.DELIVERED, MessageStatus.READ}
_UNDELIVERED = {MessageStatus.UNDELIVERED, MessageStatus.FAILED}


def _count_outcomes(moved: list[tuple[Message, str]]) -> None:
    """Count messages reaching their delivery outcome, for the failure-rate alarm.

    One data point per metric, provider and channel however many messages a
    page moved: the metric's Sum is the count.
    """
    counts: dict[tuple[str, str, str], int] = {}
    for message, before in moved:
        if message.status == before or before in _DELIVERED | _UNDELIVERED:
            continue
        if message.status in _DELIVERED:
            name = METRIC_DELIVERED
        elif message.status in _UNDELIVERED:
            name = METRIC_UNDELIVERED
        else:
            continue
        key = (name, message.provider, message.channel)
        counts[key] = counts.get(key, 0) + 1
    totals: dict[str, int] = {}
    for (name, provider, channel), n in counts.items():
        metrics.record(name, n, Provider=provider, Channel=channel)
        totals[name] = totals.get(name, 0) + n
    for name, n in totals.items():
        metrics.record(name, n)
