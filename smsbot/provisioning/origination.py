"""End User Messaging SMS origination numbers: two-way messaging towards the inbound topic.

SNS receives no SMS by itself: a reply reaches the inbound topic only from a phone
number whose two-way messaging is on with the topic as its channel
(UpdatePhoneNumber TwoWayEnabled, TwoWayChannelArn); the topic's access policy
(sns.InboundTopic) lets the service publish there. SMS_ORIGINATION_NUMBERS names
the numbers; empty means every phone number of the account, except that a number
whose two-way already goes elsewhere (another application's topic, Amazon Connect)
is left alone and named in a warning — naming it takes it over. Teardown switches
two-way off on the numbers that point at the inbound topic, and only those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from smsbot import aws
from smsbot.aws_names import INBOUND_TOPIC
from smsbot.provisioning.core import (
    Action,
    Change,
    Check,
    Context,
    Plan,
    Resource,
    client,
    topic_arn,
)

SERVICE = "pinpoint-sms-voice-v2"
# US carriers block traffic from these number types until their registration (toll-free
# verification, 10DLC campaign) is complete.
NEEDS_REGISTRATION = {"TOLL_FREE", "TEN_DLC"}
NumberInfo = dict[str, Any]


def account_numbers() -> list[NumberInfo]:
    pages = client(SERVICE).get_paginator("describe_phone_numbers").paginate()
    return [n for page in pages for n in page["PhoneNumbers"] if n["Status"] != "DELETED"]


def registrations(numbers: list[NumberInfo]) -> dict[str, dict[str, Any]]:
    """RegistrationId -> registration, for the registrations these numbers belong to."""
    ids = sorted({n["RegistrationId"] for n in numbers if n.get("RegistrationId")})
    if not ids:
        return {}
    pages = client(SERVICE).get_paginator("describe_registrations").paginate(RegistrationIds=ids)
    return {r["RegistrationId"]: r for page in pages for r in page["Registrations"]}


def mps(number: NumberInfo) -> int | None:
    """The number's SMS throughput in messages per second, as AWS reports it."""
    return number.get("MessagingLimits", {}).get("RateLimits", {}).get("SMS")


@dataclass
class Selection:
    """The numbers to manage, and what keeps the others out."""

    chosen: list[NumberInfo]
    region: str
    none_at_all: bool
    missing: list[str] = field(default_factory=list)  # named, not in the account
    elsewhere: list[NumberInfo] = field(default_factory=list)  # two-way to another target

    def failures(self) -> list[str]:
        return [
            f"SMS_ORIGINATION_NUMBERS names {phone}, which is not a phone number of this "
            f"account in {self.region}"
            for phone in self.missing
        ]

    def notes(self) -> list[str]:
        found = [
            f"{n['PhoneNumber']} sends its two-way messages to {n['TwoWayChannelArn']}: left "
            "alone; name it in SMS_ORIGINATION_NUMBERS to point it at the portal"
            for n in self.elsewhere
        ]
        if self.none_at_all:
            found.append(
                f"the account has no End User Messaging SMS phone number in {self.region}: "
                "nobody can reply by SMS. Request one (console → Phone numbers), then run "
                "provision_aws again"
            )
        return found


class TwoWayNumbers(Resource):
    kind = "two-way SMS"

    @property
    def name(self) -> str:
        if settings.SMS_ORIGINATION_NUMBERS:
            return f"on {', '.join(settings.SMS_ORIGINATION_NUMBERS)} (SMS_ORIGINATION_NUMBERS)"
        return "on every phone number of the account (SMS_ORIGINATION_NUMBERS empty)"

    def _select(self, ctx: Context, numbers: list[NumberInfo]) -> Selection:
        by_phone = {n["PhoneNumber"]: n for n in numbers}
        if settings.SMS_ORIGINATION_NUMBERS:
            return Selection(
                [by_phone[p] for p in settings.SMS_ORIGINATION_NUMBERS if p in by_phone],
                missing=[p for p in settings.SMS_ORIGINATION_NUMBERS if p not in by_phone],
                region=ctx.region,
                none_at_all=not numbers,
            )
        inbound = topic_arn(ctx, INBOUND_TOPIC)
        elsewhere = [
            n
            for n in numbers
            if n["TwoWayEnabled"] and n.get("TwoWayChannelArn") not in (None, "", inbound)
        ]
        return Selection(
            [n for n in numbers if n not in elsewhere],
            elsewhere=elsewhere,
            region=ctx.region,
            none_at_all=not numbers,
        )

    def plan(self, ctx: Context) -> Plan:
        inbound = topic_arn(ctx, INBOUND_TOPIC)
        selection = self._select(ctx, account_numbers())
        warnings = selection.failures() + selection.notes()
        if not selection.chosen:
            return Plan(Action.SKIP, warnings=warnings)
        changes, pending = [], []
        for number in selection.chosen:
            phone, channel = number["PhoneNumber"], number.get("TwoWayChannelArn") or ""
            if not number["TwoWayEnabled"]:
                changes.append(Change(f"{phone} two-way", "off", f"on → {inbound}"))
            elif channel != inbound:
                changes.append(Change(f"{phone} two-way channel", channel, inbound))
            else:
                continue
            pending.append(number)
        action = Action.UPDATE if changes else Action.UNCHANGED
        return Plan(action, changes, warnings, current=pending)

    def apply(self, ctx: Context, plan: Plan) -> None:
        eum = client(SERVICE)
        for number in plan.current:
            eum.update_phone_number(
                PhoneNumberId=number["PhoneNumberId"],
                TwoWayEnabled=True,
                TwoWayChannelArn=topic_arn(ctx, INBOUND_TOPIC),
            )

    def verify(self, ctx: Context) -> list[Check]:
        inbound = topic_arn(ctx, INBOUND_TOPIC)
        selection = self._select(ctx, account_numbers())
        checks = [Check(False, f"{self.kind}: {text}") for text in selection.failures()]
        checks += [Check(None, f"{self.kind}: {text}") for text in selection.notes()]
        found = registrations(selection.chosen)
        for number in selection.chosen:
            arriving = number["TwoWayEnabled"] and number.get("TwoWayChannelArn") == inbound
            checks.append(
                Check(
                    arriving and number["Status"] == "ACTIVE",
                    f"{self.kind} {number['PhoneNumber']}: {describe(number, inbound, found)}",
                )
            )
            if blocked_until_registered(number, found):
                # Not provisioning's to fix (a registration takes days to weeks), so noted,
                # not failed — but never left to read as a ✓.
                checks.append(
                    Check(
                        None,
                        f"registration of {number['PhoneNumber']}: not complete — US carriers "
                        "block its messages until the toll-free verification or the 10DLC "
                        "campaign is approved (End User Messaging SMS console → Registrations)",
                    )
                )
        return checks

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        inbound = topic_arn(ctx, INBOUND_TOPIC)
        ours = [
            n
            for n in account_numbers()
            if n["TwoWayEnabled"] and n.get("TwoWayChannelArn") == inbound
        ]
        eum = client(SERVICE)
        for number in ours:
            eum.update_phone_number(PhoneNumberId=number["PhoneNumberId"], TwoWayEnabled=False)
        if not ours:
            return "no number sends its two-way messages to the inbound topic"
        return "switched off on " + ", ".join(n["PhoneNumber"] for n in ours)


def blocked_until_registered(number: NumberInfo, found: dict[str, dict[str, Any]]) -> bool:
    """A US toll-free or 10DLC number whose registration is missing or not COMPLETE."""
    if number["NumberType"] not in NEEDS_REGISTRATION or number["IsoCountryCode"] != "US":
        return False
    registration = found.get(number.get("RegistrationId") or "")
    return not registration or registration["RegistrationStatus"] != "COMPLETE"


def describe(number: NumberInfo, inbound: str, found: dict[str, dict[str, Any]]) -> str:
    """Type, status, two-way target, registration and MPS of one number, on one line."""
    channel = number.get("TwoWayChannelArn") or ""
    if not number["TwoWayEnabled"]:
        target = "two-way off — replies never arrive"
    elif channel == inbound:
        target = "two-way → the inbound topic"
    else:
        target = f"two-way → {channel} (not the inbound topic)"
    registration = found.get(number.get("RegistrationId") or "")
    if registration:
        status = registration["RegistrationStatus"]
        registered = f"registration {registration['RegistrationType']} {status}"
    else:
        registered = "no registration"
    if blocked_until_registered(number, found):
        registered += " (US carriers block it until it is complete)"
    rate = mps(number)
    throughput = f"{rate} MPS" if rate is not None else "MPS not reported"
    return f"{number['NumberType']} {number['Status']}, {target}, {registered}, {throughput}"


def resources() -> list[Resource]:
    if not aws.has_sms_voice():
        return []  # a local emulator without End User Messaging SMS (smsbot.aws)
    return [TwoWayNumbers()]
