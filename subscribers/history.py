"""The consent trail in words: "Opted in by SMS keyword START, Sat 28 Nov 2026, 10:02 CST".

One line per ConsentEvent, built from its source and its evidence, for the
subscriber page, the Consent events list and the export's evidence column.
"""

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from smsbot import timezones
from subscribers.models import AddressKind, ConsentEvent, ConsentSource, ConsentStatus

QUOTE_LENGTH = 80

VERBS = {
    ConsentStatus.OPTED_IN: "Opted in",
    ConsentStatus.OPTED_OUT: "Opted out",
    ConsentStatus.PENDING: "Signed up (awaiting YES)",
}
# An address's consent is confirmed by its link, not by a YES.
EMAIL_VERBS = {
    ConsentStatus.OPTED_IN: "E-mail address confirmed",
    ConsentStatus.OPTED_OUT: "E-mail address opted out",
    ConsentStatus.PENDING: "E-mail address added (awaiting its link)",
}
KEYWORD_CHANNELS = {ConsentSource.SMS_KEYWORD: "SMS", ConsentSource.WHATSAPP_KEYWORD: "WhatsApp"}
# As operators know them (the provider ids are messaging's; this app only reads them).
PROVIDER_NAMES = {"sns": "AWS SNS", "twilio": "Twilio"}


def when(moment: datetime, zone: tzinfo | None = None) -> str:
    """The admin's one clock (smsbot.timezones): OPS_TIMEZONE, or the zone given."""
    return timezones.shown(moment, zone)


def _quoted(text: Any) -> str:
    text = " ".join(str(text or "").split())
    if len(text) > QUOTE_LENGTH:
        text = text[: QUOTE_LENGTH - 1] + "…"
    return f': "{text}"' if text else ""


def how(event: ConsentEvent) -> str:
    """'by SMS keyword START', 'by ops in the admin: "asked by phone"', …"""
    evidence = event.evidence if isinstance(event.evidence, dict) else {}
    source = event.source
    if source in KEYWORD_CHANNELS:
        keyword = " ".join(str(evidence.get("text") or "").split()).upper()[:QUOTE_LENGTH]
        return f"by {KEYWORD_CHANNELS[source]} keyword {keyword}".rstrip()
    if source == ConsentSource.WEB_FORM:
        return "on the web form"
    if source == ConsentSource.API:
        return "through the opt-in API"
    if source == ConsentSource.ADMIN:
        who = evidence.get("admin_user") or "an operator"
        return f"by {who} in the admin" + _quoted(
            evidence.get("reason") or evidence.get("evidence")
        )
    if source == ConsentSource.IMPORT:
        where = f"by import of {evidence.get('file') or 'a file'}"
        if evidence.get("row"):
            where += f", row {evidence['row']}"
        if evidence.get("imported_by"):
            where += f", by {evidence['imported_by']}"
        return where + _quoted(evidence.get("evidence"))
    if source == ConsentSource.PROVIDER:
        provider = str(evidence.get("provider") or "")
        code = evidence.get("error_code")
        if not code:
            return "by the provider"
        return f"by the provider ({PROVIDER_NAMES.get(provider, provider)} error {code})"
    return f"by {event.get_source_display()}"


def line(event: ConsentEvent) -> str:
    """What happened and how, without the time."""
    verbs = EMAIL_VERBS if event.address_kind == AddressKind.EMAIL else VERBS
    return f"{verbs.get(event.to_status) or event.get_to_status_display()} {how(event)}"


def sentence(event: ConsentEvent, zone: tzinfo | None = None) -> str:
    return f"{line(event)}, {when(event.created_at, zone)}"


@dataclass(frozen=True)
class HistoryLine:
    text: str
    when: str
    # (name, value) pairs of the raw evidence, for the expandable detail.
    evidence: list[tuple[str, str]]


def evidence_items(evidence: Any) -> list[tuple[str, str]]:
    if not isinstance(evidence, dict):
        return [("evidence", json.dumps(evidence, ensure_ascii=False))]
    return [
        (
            str(key).replace("_", " "),
            value
            if isinstance(value, str)
            else json.dumps(value, ensure_ascii=False, sort_keys=True),
        )
        for key, value in evidence.items()
    ]


def history_line(event: ConsentEvent) -> HistoryLine:
    return HistoryLine(line(event), when(event.created_at), evidence_items(event.evidence))
