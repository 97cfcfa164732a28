"""End User Messaging SMS for sending: the configuration set, its events, the protect configuration.

The configuration set (CONFIGURATION_SET) is named by every SendTextMessage
(SMS_PROVIDER=aws-sms); its event destination publishes the SMS delivery events to
the events topic, which the portal subscribes to (/webhooks/sns/). The protect
configuration allows SMS only to OPTIN_ALLOWED_COUNTRIES and blocks every other
country; as the account default it guards every SMS the account sends, SNS's too
(SMS pumping: fraudulent sign-ups to premium-rate destinations). "*" in
OPTIN_ALLOWED_COUNTRIES allows every country: the protect configuration is then
created with no country blocked.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from smsbot import aws
from smsbot.aws import resource_name
from smsbot.aws_names import (
    CONFIGURATION_SET,
    EVENT_DESTINATION,
    PROTECT_CONFIGURATION,
    SMS_EVENTS_TOPIC,
)
from smsbot.provisioning.core import (
    Action,
    Change,
    Check,
    Context,
    Plan,
    Resource,
    client,
    topic_arn,
    try_get,
)

SERVICE = "pinpoint-sms-voice-v2"
TAGS = [{"Key": "Project", "Value": "SMSBot"}]
# The delivery events the destination publishes (aws_sms.events knows each); the core
# cannot import the app, so the list lives here and a test keeps the two in step.
MATCHING_EVENT_TYPES = sorted([
    "TEXT_PENDING", "TEXT_QUEUED", "TEXT_SENT", "TEXT_SUCCESSFUL", "TEXT_DELIVERED",
    "TEXT_BLOCKED", "TEXT_CARRIER_BLOCKED", "TEXT_SPAM", "TEXT_CARRIER_UNREACHABLE",
    "TEXT_UNREACHABLE", "TEXT_INVALID", "TEXT_INVALID_MESSAGE", "TEXT_TTL_EXPIRED",
    "TEXT_PROTECT_BLOCKED", "TEXT_UNKNOWN",
])  # fmt: skip


class ConfigurationSet(Resource):
    kind = "End User Messaging SMS configuration set"

    @property
    def name(self) -> str:
        return f"{resource_name(CONFIGURATION_SET)} (events → {resource_name(SMS_EVENTS_TOPIC)})"

    def _current(self) -> dict[str, Any] | None:
        eum = client(SERVICE)
        name = resource_name(CONFIGURATION_SET)
        found = try_get(
            lambda: eum.describe_configuration_sets(ConfigurationSetNames=[name]),
            "ResourceNotFoundException",
        )
        return found["ConfigurationSets"][0] if found and found["ConfigurationSets"] else None

    def _destination(self, ctx: Context) -> dict[str, Any]:
        return {
            "Enabled": True,
            "MatchingEventTypes": MATCHING_EVENT_TYPES,
            "SnsDestination": {"TopicArn": topic_arn(ctx, SMS_EVENTS_TOPIC)},
        }

    @staticmethod
    def _ours(config: dict[str, Any]) -> dict[str, Any] | None:
        return next(
            (
                d
                for d in config["EventDestinations"]
                if d["EventDestinationName"] == EVENT_DESTINATION
            ),
            None,
        )

    def plan(self, ctx: Context) -> Plan:
        config = self._current()
        if config is None:
            return Plan(Action.CREATE)
        found = self._ours(config)
        if found is None:
            return Plan(Action.UPDATE, [Change("event destination", "missing", "create")])
        current = {**found, "MatchingEventTypes": sorted(found["MatchingEventTypes"])}
        plan = Plan.compare(current, self._destination(ctx))
        plan.current = "update"
        return plan

    def apply(self, ctx: Context, plan: Plan) -> None:
        eum = client(SERVICE)
        name = resource_name(CONFIGURATION_SET)
        if plan.action is Action.CREATE:
            eum.create_configuration_set(ConfigurationSetName=name, Tags=TAGS)
        wanted = self._destination(ctx)
        if plan.current == "update":
            eum.update_event_destination(
                ConfigurationSetName=name, EventDestinationName=EVENT_DESTINATION, **wanted
            )
            return
        del wanted["Enabled"]
        eum.create_event_destination(
            ConfigurationSetName=name, EventDestinationName=EVENT_DESTINATION, **wanted
        )

    def verify(self, ctx: Context) -> list[Check]:
        plan = self.plan(ctx)
        if plan.action is Action.CREATE:
            return [Check(False, f"{self.label}: missing — no delivery events for aws-sms")]
        if plan.changes:
            detail = "; ".join(str(c) for c in plan.changes)
            return [Check(False, f"{self.label}: event destination differs ({detail})")]
        return [Check(True, f"{self.label}: exists; delivery events published to the topic")]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        if self._current() is None:
            return "absent"
        client(SERVICE).delete_configuration_set(
            ConfigurationSetName=resource_name(CONFIGURATION_SET)
        )
        return "deleted (with its event destination)"


def country_rules(countries: list[str]) -> dict[str, str]:
    """ALLOW or BLOCK per country AWS lists: only the allowed countries may be sent to."""
    allowed = set(settings.OPTIN_ALLOWED_COUNTRIES)
    if "*" in allowed:
        return dict.fromkeys(countries, "ALLOW")
    return {c: "ALLOW" if c in allowed else "BLOCK" for c in countries}


class ProtectConfiguration(Resource):
    kind = "End User Messaging SMS protect configuration"

    @property
    def name(self) -> str:
        allowed = ", ".join(settings.OPTIN_ALLOWED_COUNTRIES)
        return f"{resource_name(PROTECT_CONFIGURATION)} (SMS only to {allowed}; account default)"

    def _find(self) -> dict[str, Any] | None:
        """Ours: the protect configuration tagged Name=<prefix>smsbot-protect."""
        eum = client(SERVICE)
        wanted = {"Key": "Name", "Value": resource_name(PROTECT_CONFIGURATION)}
        for page in eum.get_paginator("describe_protect_configurations").paginate():
            for config in page["ProtectConfigurations"]:
                tags = eum.list_tags_for_resource(ResourceArn=config["ProtectConfigurationArn"])
                if wanted in tags["Tags"]:
                    return config
        return None

    @staticmethod
    def _rules(config: dict[str, Any]) -> dict[str, str]:
        found = client(SERVICE).get_protect_configuration_country_rule_set(
            ProtectConfigurationId=config["ProtectConfigurationId"], NumberCapability="SMS"
        )
        return {c: r["ProtectStatus"] for c, r in found["CountryRuleSet"].items()}

    def _differences(self, config: dict[str, Any]) -> tuple[list[Change], dict[str, str]]:
        current = self._rules(config)
        wanted = country_rules(sorted(current))
        updates = {c: rule for c, rule in wanted.items() if current[c] != rule}
        changes = []
        for rule in ("ALLOW", "BLOCK"):
            named = sorted(c for c, r in updates.items() if r == rule)
            if named:
                shown = ", ".join(named[:8]) + (
                    f" and {len(named) - 8} more" if len(named) > 8 else ""
                )
                changes.append(Change(f"SMS to {shown}", "other", rule))
        if not config["AccountDefault"]:
            changes.append(Change("account default", "no", "yes"))
        return changes, updates

    def plan(self, ctx: Context) -> Plan:
        config = self._find()
        if config is None:
            return Plan(Action.CREATE)
        changes, updates = self._differences(config)
        action = Action.UPDATE if changes else Action.UNCHANGED
        return Plan(action, changes, current=(config, updates))

    def apply(self, ctx: Context, plan: Plan) -> None:
        eum = client(SERVICE)
        if plan.action is Action.CREATE:
            tags = [*TAGS, {"Key": "Name", "Value": resource_name(PROTECT_CONFIGURATION)}]
            config = eum.create_protect_configuration(Tags=tags)
            config = {**config, "AccountDefault": False}
            _, updates = self._differences(config)
        else:
            config, updates = plan.current
        ident = config["ProtectConfigurationId"]
        if updates:
            eum.update_protect_configuration_country_rule_set(
                ProtectConfigurationId=ident,
                NumberCapability="SMS",
                CountryRuleSetUpdates={c: {"ProtectStatus": r} for c, r in updates.items()},
            )
        if not config["AccountDefault"]:
            eum.set_account_default_protect_configuration(ProtectConfigurationId=ident)

    def verify(self, ctx: Context) -> list[Check]:
        config = self._find()
        if config is None:
            return [Check(False, f"{self.label}: missing — no SMS-pumping protection")]
        changes, _ = self._differences(config)
        if changes:
            detail = "; ".join(str(c) for c in changes)
            return [Check(False, f"{self.label}: differs ({detail})")]
        return [Check(True, f"{self.label}: exists, account default, countries as configured")]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        config = self._find()
        if config is None:
            return "absent"
        eum = client(SERVICE)
        if config["AccountDefault"]:
            eum.delete_account_default_protect_configuration()
        eum.delete_protect_configuration(ProtectConfigurationId=config["ProtectConfigurationId"])
        return "deleted (no longer the account default)"


def resources() -> list[Resource]:
    if not aws.has_sms_voice():
        return []  # a local emulator without End User Messaging SMS (smsbot.aws)
    return [ConfigurationSet(), ProtectConfiguration()]
