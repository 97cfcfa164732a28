"""A consent proof per number: one document a carrier or a lawyer can read.

proof() builds it once, as plain data (JSON-ready); the admin's print page, its
JSON and `manage.py consent_proof` only render it. It holds, oldest first:
every consent event with its evidence as stored (the keyword's text and the
inbound message id it came in; the form's time, address and the consent wording
shown), every confirmation, broadcast and STOP/HELP answer sent to the number
with each delivery report, the inbound keyword messages (a STOP names the
broadcast it followed), and the audit entries of operators who touched the
number. Times are in OPS_TIMEZONE with UTC beside them (smsbot.timezones).

An erased subscriber's proof says what was erased and when, and nothing more:
the portal no longer holds the number, so it has nothing else to show for it.
"""

from datetime import UTC, datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from messaging.models import DeliveryEvent, Direction, Message, MessageKind
from smsbot import timezones
from subscribers.consent import phone_hash
from subscribers.history import how
from subscribers.models import ConsentEvent, Subscriber
from subscribers.phones import normalize

# The outbound messages that belong in a consent record (bot chat does not).
KINDS = (MessageKind.CONFIRMATION, MessageKind.BROADCAST, MessageKind.COMPLIANCE)
ERASED = (
    "The number, the text of every message to and from it, its delivery reports' payloads "
    "and its conversation were erased. Its consent events are kept under a salted hash of "
    "the number, so a proof can be given again to someone who presents the number."
)


def moment(value: datetime | None) -> dict[str, str] | None:
    """One time, as the ops clock shows it and in UTC."""
    if value is None:
        return None
    return {
        "local": timezones.shown(value),
        "utc": timezones.shown_utc(value),
        "iso": value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def find_subscriber(number: str) -> Subscriber | None:
    """The subscriber a number is, or was: an erased one is found by its events' hash.
    Raises subscribers.phones.InvalidPhone for something that is not a number."""
    phone = normalize(number)
    found = Subscriber.objects.filter(phone=phone).first()
    if found is None:
        event = ConsentEvent.objects.filter(phone_hash=phone_hash(phone)).first()
        found = event.subscriber if event else None
    return found


def text(document: dict[str, Any]) -> str:
    """The proof as plain lines, for a terminal (`manage.py consent_proof`)."""
    lines = [
        f"Consent proof generated {document['generated_at']['local']} "
        f"({document['generated_at']['utc']}); times in {document['timezone']}, UTC beside.",
    ]
    if "erased" in document:
        erased = document["erased"]
        lines.append(f"Erased {erased['at']['local']} ({erased['at']['utc']}). {erased['what']}")
        return "\n".join(lines)
    lines.append(f"{document['phone']}: {document['consent_status_label']} ({document['channel']})")
    for e in document["entries"]:
        lines.append(f"{e['at']['local']} ({e['at']['utc']})  [{e['type']}] {e['what']}")
        for key in ("evidence", "broadcast", "after_broadcast", "provider_message_id"):
            if e.get(key):
                lines.append(f"    {key}: {e[key]}")
        if e.get("operator"):
            lines.append(f"    by: {e['operator']}")
        for r in e.get("delivery_reports", []):
            code = f" ({r['error_code']})" if r["error_code"] else ""
            lines.append(f"    report {r['at']['local']} ({r['at']['utc']}): {r['status']}{code}")
    return "\n".join(lines)


def proof(subscriber: Subscriber, now: datetime | None = None) -> dict[str, Any]:
    """The whole consent record of one subscriber's number."""
    now = now or timezone.now()
    head = {
        "generated_at": moment(now),
        "timezone": timezones.zone_label(),
        "subscriber_id": subscriber.pk,
    }
    if subscriber.erased_at is not None:
        return {**head, "erased": {"at": moment(subscriber.erased_at), "what": ERASED}}
    events = list(subscriber.consent_events.order_by("created_at", "id"))
    messages = list(
        Message.objects.filter(phone=subscriber.phone)
        .filter(Q(kind__in=KINDS) | _keyword_inbounds(events))
        .select_related("broadcast", "after_broadcast")
        .order_by("created_at", "id")
    )
    reports = _reports([m.pk for m in messages])
    entries = (
        [_consent_entry(e) for e in events]
        + [_message_entry(m, reports.get(m.pk, [])) for m in messages]
        + [_audit_entry(e) for e in _audit(subscriber)]
    )
    entries.sort(key=lambda e: e["at"]["iso"])
    return {
        **head,
        "phone": subscriber.phone,
        "channel": subscriber.channel,
        "consent_status": subscriber.consent_status,
        "consent_status_label": subscriber.get_consent_status_display(),
        "entries": entries,
    }


def _keyword_inbounds(events: list[ConsentEvent]) -> Q:
    """The inbound messages consent events name as their evidence (by provider id)."""
    ids = [e.evidence.get("message_id") for e in events if isinstance(e.evidence, dict)]
    return Q(
        direction=Direction.INBOUND,
        provider_message_id__in=[i for i in ids if isinstance(i, str) and i],
    )


def _reports(message_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    rows = DeliveryEvent.objects.filter(message_id__in=message_ids).order_by("received_at", "id")
    for r in rows:
        found.setdefault(r.message_id, []).append(
            {"at": moment(r.received_at), "status": r.status, "error_code": r.error_code}
        )
    return found


def _audit(subscriber: Subscriber) -> list[LogEntry]:
    kind = ContentType.objects.get_for_model(Subscriber)
    return list(
        LogEntry.objects.filter(content_type=kind, object_id=str(subscriber.pk))
        .select_related("user")
        .order_by("action_time", "id")
    )


def _consent_entry(event: ConsentEvent) -> dict[str, Any]:
    return {
        "at": moment(event.created_at),
        "type": "consent",
        "what": f"{event.get_to_status_display()} {how(event)}",
        "from_status": event.from_status,
        "to_status": event.to_status,
        "source": event.source,
        "evidence": event.evidence,
        "consent_event_id": event.pk,
    }


def _message_entry(message: Message, reports: list[dict[str, Any]]) -> dict[str, Any]:
    inbound = message.direction == Direction.INBOUND
    entry: dict[str, Any] = {
        "at": moment(message.sent_at or message.created_at),
        "type": "inbound" if inbound else message.kind,
        "what": (
            f"Received “{message.body}”"
            if inbound
            else f"{message.get_kind_display()}: {message.get_status_display()}"
        ),
        "message_id": message.pk,
        "provider": message.provider,
        "provider_message_id": message.provider_message_id or "",
        "channel": message.channel,
        "status": message.status,
        "text": message.body,
    }
    if message.broadcast_id:
        entry["broadcast"] = {"id": message.broadcast_id, "name": message.broadcast.name}
    if message.after_broadcast_id:
        entry["after_broadcast"] = {
            "id": message.after_broadcast_id,
            "name": message.after_broadcast.name,
        }
    if message.error_code:
        entry["error_code"] = message.error_code
    if not inbound:
        entry["created_at"] = moment(message.created_at)
        entry["delivery_reports"] = reports
    return entry


def _audit_entry(entry: LogEntry) -> dict[str, Any]:
    return {
        "at": moment(entry.action_time),
        "type": "audit",
        "what": entry.get_change_message() or entry.get_action_flag_display(),
        "operator": entry.user.get_username() if entry.user else "",
        "audit_entry_id": entry.pk,
    }
