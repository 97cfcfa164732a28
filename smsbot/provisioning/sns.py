"""SNS: the account's SMS settings, the portal's topics, and their subscriptions.

The inbound topic (two-way SMS) is subscribed to /webhooks/sns/ over HTTPS; its
access policy lets AWS End User Messaging SMS publish the replies people send to the
account's two-way numbers (origination.py switches two-way on towards it). The
alerts topic, made when ALERT_EMAILS names someone, e-mails them whatever alarm
fires or clears. The sms-delivery-status topic of older versions is deleted:
SNS never publishes SMS delivery statuses to a topic (they come from CloudWatch
Logs, see logs.py).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings

from smsbot.aws import resource_name
from smsbot.aws_names import ALERTS_TOPIC, DELIVERY_STATUS_TOPIC, INBOUND_TOPIC, SMS_EVENTS_TOPIC
from smsbot.provisioning import iam
from smsbot.provisioning.core import (
    Action,
    Change,
    Check,
    Context,
    Plan,
    Resource,
    Retired,
    client,
    same_json,
    topic_arn,
    try_get,
)

WEBHOOK_PATH = "/webhooks/sns/"
# What SNS lists instead of an ARN until the endpoint confirms.
PENDING = "PendingConfirmation"
NON_PUBLIC_SUFFIXES = (".local", ".test", ".internal", ".localhost", ".invalid", ".example")

Attributes = dict[str, str]


def delivery_settings(ctx: Context) -> Attributes:
    return {
        "DefaultSMSType": settings.SNS_SMS_TYPE,
        "DefaultSenderID": settings.SNS_SENDER_ID,
        "DeliveryStatusIAMRole": iam.role_arn(ctx, iam.SNS_LOGS_ROLE),
        "DeliveryStatusSuccessSamplingRate": "100",
    }


class SmsAttributes(Resource):
    """Account-level SMS settings. They cannot be deleted, only set."""

    kind = "SNS SMS attributes"

    def __init__(
        self,
        desired: Callable[[Context], Attributes],
        *,
        warnings: Callable[[], list[str]] = list,
    ) -> None:
        self.desired, self.warnings = desired, warnings

    @property
    def name(self) -> str:
        return ""

    def _current(self, wanted: Attributes) -> Attributes:
        # Asked unfiltered: the answer is small, and every emulator filters alike then.
        current = client("sns").get_sms_attributes()["attributes"]
        return {key: current[key] for key in wanted if key in current}

    def plan(self, ctx: Context) -> Plan:
        wanted = self.desired(ctx)
        return Plan.compare(self._current(wanted), wanted, warnings=self.warnings())

    def apply(self, ctx: Context, plan: Plan) -> None:
        client("sns").set_sms_attributes(attributes=self.desired(ctx))

    def verify(self, ctx: Context) -> list[Check]:
        wanted = self.desired(ctx)
        current = self._current(wanted)
        return [
            Check(
                current.get(key) == value, f"{self.label}: {key} = {current.get(key) or '(unset)'}"
            )
            for key, value in wanted.items()
        ]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        return "kept (account-level settings cannot be deleted)"


class Topic(Resource):
    kind = "SNS topic"

    def __init__(self, base_name: str) -> None:
        self.base_name = base_name

    @property
    def name(self) -> str:
        return resource_name(self.base_name)

    def _exists(self, ctx: Context) -> bool:
        sns = client("sns")
        arn = topic_arn(ctx, self.base_name)
        return try_get(lambda: sns.get_topic_attributes(TopicArn=arn), "NotFound") is not None

    def plan(self, ctx: Context) -> Plan:
        return Plan(Action.UNCHANGED if self._exists(ctx) else Action.CREATE)

    def apply(self, ctx: Context, plan: Plan) -> None:
        client("sns").create_topic(Name=self.name, Tags=[{"Key": "Project", "Value": "SMSBot"}])

    def verify(self, ctx: Context) -> list[Check]:
        exists = self._exists(ctx)
        return [Check(exists, f"{self.label}: {'exists' if exists else 'missing'}")]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        if not self._exists(ctx):
            return "absent"
        # Deleting a topic deletes its subscriptions too.
        client("sns").delete_topic(TopicArn=topic_arn(ctx, self.base_name))
        return "deleted"


class ServiceTopic(Topic):
    """A topic an AWS service publishes to, whose access policy lets that service publish.

    The policy keeps every statement it already has (the owner's default, or an
    operator's) and adds or repairs the portal's own, found by its Sid. Subclasses
    name the service, the Sid and the condition that keeps another account's (or
    another resource's) publishing out: the confused-deputy guard AWS documents.
    """

    principal = ""
    sid = ""
    # What verify says when the service may not publish.
    consequence = ""

    def condition(self, ctx: Context) -> dict[str, object]:
        return {"StringEquals": {"aws:SourceAccount": ctx.account_id}}

    def statement(self, ctx: Context) -> dict[str, object]:
        return {
            "Sid": self.sid,
            "Effect": "Allow",
            "Principal": {"Service": self.principal},
            "Action": "sns:Publish",
            "Resource": topic_arn(ctx, self.base_name),
            "Condition": self.condition(ctx),
        }

    def _policy(self, ctx: Context) -> dict | None:
        arn = topic_arn(ctx, self.base_name)
        found = try_get(lambda: client("sns").get_topic_attributes(TopicArn=arn), "NotFound")
        return found and json.loads(found["Attributes"].get("Policy") or "{}")

    def _granted(self, ctx: Context, policy: dict) -> bool:
        wanted = self.statement(ctx)
        return any(same_json(s, wanted) for s in policy.get("Statement", []))

    def plan(self, ctx: Context) -> Plan:
        policy = self._policy(ctx)
        if policy is None:
            return Plan(Action.CREATE)
        if self._granted(ctx, policy):
            return Plan(Action.UNCHANGED)
        change = Change(f"access policy {self.principal} publish", "missing", "allowed")
        return Plan(Action.UPDATE, [change], current=policy)

    def apply(self, ctx: Context, plan: Plan) -> None:
        if plan.action is Action.CREATE:
            super().apply(ctx, plan)
            policy = self._policy(ctx) or {}
        else:
            policy = plan.current
        statements = [s for s in policy.get("Statement", []) if s.get("Sid") != self.sid]
        policy = {
            "Version": "2012-10-17",
            **policy,
            "Statement": [*statements, self.statement(ctx)],
        }
        client("sns").set_topic_attributes(
            TopicArn=topic_arn(ctx, self.base_name),
            AttributeName="Policy",
            AttributeValue=json.dumps(policy),
        )

    def verify(self, ctx: Context) -> list[Check]:
        policy = self._policy(ctx)
        if policy is None:
            return [Check(False, f"{self.label}: missing")]
        granted = self._granted(ctx, policy)
        scope = ", ".join(f"{k} {v}" for c in self.condition(ctx).values() for k, v in c.items())
        return [
            Check(
                granted,
                f"{self.label}: exists; {self.principal} may publish ({scope}): "
                f"{'yes' if granted else f'NO — {self.consequence}'}",
            )
        ]


class InboundTopic(ServiceTopic):
    """A topic End User Messaging SMS publishes to (inbound SMS; with SMS_EVENTS_TOPIC, the
    delivery events). aws:SourceAccount keeps another account's numbers from publishing
    to it (the confused-deputy guard of the AWS End User Messaging SMS User Guide)."""

    principal = "sms-voice.amazonaws.com"
    sid = "SmsVoiceTwoWayPublish"
    consequence = "inbound SMS cannot arrive"

    def __init__(self, base_name: str = INBOUND_TOPIC) -> None:
        super().__init__(base_name)


class AlertTopic(Topic):
    """The topic every alarm notifies, with an e-mail subscription per ALERT_EMAILS address.

    SNS e-mails each new address a confirmation link; until it is followed the
    subscription is pending (and cannot be removed, it lapses after three days).
    """

    kind = "SNS alerts topic"

    def __init__(self) -> None:
        super().__init__(ALERTS_TOPIC)

    def _subscribed(self, ctx: Context) -> dict[str, str]:
        """E-mail address -> subscription ARN (or PendingConfirmation)."""
        sns = client("sns")
        arn = topic_arn(ctx, self.base_name)
        pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
        return {
            s["Endpoint"]: s["SubscriptionArn"]
            for page in pages
            for s in page["Subscriptions"]
            if s["Protocol"] == "email"
        }

    def plan(self, ctx: Context) -> Plan:
        wanted = set(settings.ALERT_EMAILS)
        if not wanted:
            return Plan(
                Action.SKIP,
                warnings=["ALERT_EMAILS is not set: the alarms notify nobody"],
            )
        if not self._exists(ctx):
            return Plan(Action.CREATE)
        have = self._subscribed(ctx)
        changes = [
            Change(address, "not subscribed", "subscribe") for address in sorted(wanted - set(have))
        ]
        changes += [
            Change(address, "subscribed", "unsubscribe")
            for address in sorted(set(have) - wanted)
            if have[address] != PENDING
        ]
        return Plan(Action.UPDATE if changes else Action.UNCHANGED, changes, current=have)

    def apply(self, ctx: Context, plan: Plan) -> None:
        sns = client("sns")
        arn = topic_arn(ctx, self.base_name)
        if plan.action is Action.CREATE:
            super().apply(ctx, plan)
        have = plan.current or {}
        for address in sorted(set(settings.ALERT_EMAILS) - set(have)):
            sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)
        for address, subscription in have.items():
            if address not in settings.ALERT_EMAILS and subscription != PENDING:
                sns.unsubscribe(SubscriptionArn=subscription)

    def verify(self, ctx: Context) -> list[Check]:
        if not settings.ALERT_EMAILS:
            return [Check(None, f"{self.label}: ALERT_EMAILS is not set: the alarms notify nobody")]
        if not self._exists(ctx):
            return [Check(False, f"{self.label}: missing")]
        have = self._subscribed(ctx)
        checks = []
        for address in settings.ALERT_EMAILS:
            if address not in have:
                checks.append(Check(False, f"{self.label}: {address} not subscribed"))
            elif have[address] == PENDING:
                checks.append(
                    Check(
                        None, f"{self.label}: {address} has not confirmed the e-mail from AWS yet"
                    )
                )
            else:
                checks.append(Check(True, f"{self.label}: {address} subscribed"))
        return checks


def webhook_url(path: str = WEBHOOK_PATH) -> str:
    return settings.PUBLIC_BASE_URL + path


def not_public_reason(url: str) -> str | None:
    """Why SNS could not reach url over the internet, or None when it can."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        return "it is not https"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or "." not in host or host.endswith(NON_PUBLIC_SUFFIXES):
            return f"{host or 'the host'} is not a public host name"
        return None
    return None if address.is_global else f"{host} is not a public address"


class Subscription(Resource):
    """The HTTPS subscription of one of the portal's topics to the webhook at path."""

    kind = "SNS subscription"

    def __init__(self, topic_base_name: str, path: str = WEBHOOK_PATH) -> None:
        self.topic_base_name, self.path = topic_base_name, path

    @property
    def url(self) -> str:
        return webhook_url(self.path)

    @property
    def name(self) -> str:
        return f"{resource_name(self.topic_base_name)} → {self.url}"

    def _skip_reason(self) -> str | None:
        reason = not_public_reason(self.url)
        return reason and (
            f"subscription skipped: PUBLIC_BASE_URL {settings.PUBLIC_BASE_URL} is not a "
            f"public https URL ({reason}); SNS could not deliver to it"
        )

    def _current(self, ctx: Context) -> dict | None:
        sns = client("sns")
        arn = topic_arn(ctx, self.topic_base_name)
        found = try_get(lambda: sns.list_subscriptions_by_topic(TopicArn=arn), "NotFound")
        subscriptions = found["Subscriptions"] if found else []
        return next(
            (s for s in subscriptions if s["Protocol"] == "https" and s["Endpoint"] == self.url),
            None,
        )

    def plan(self, ctx: Context) -> Plan:
        reason = self._skip_reason()
        if reason:
            return Plan(Action.SKIP, warnings=[reason])
        return Plan(Action.UNCHANGED if self._current(ctx) else Action.CREATE)

    def apply(self, ctx: Context, plan: Plan) -> None:
        # The portal's webhook view confirms the subscription when SNS calls it.
        client("sns").subscribe(
            TopicArn=topic_arn(ctx, self.topic_base_name),
            Protocol="https",
            Endpoint=self.url,
            ReturnSubscriptionArn=True,
        )

    def verify(self, ctx: Context) -> list[Check]:
        reason = self._skip_reason()
        if reason:
            return [Check(None, f"{self.label}: {reason}")]
        found = self._current(ctx)
        if found is None:
            return [Check(False, f"{self.label}: missing")]
        arn = found["SubscriptionArn"]
        pending = arn == PENDING or (
            client("sns")
            .get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
            .get("PendingConfirmation")
            == "true"
        )
        if pending:
            return [
                Check(
                    False,
                    f"{self.label}: pending confirmation — SNS has had no answer from "
                    f"{self.url}; check that it is reachable and the portal is running",
                )
            ]
        return [Check(True, f"{self.label}: confirmed")]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        found = None if self._skip_reason() else self._current(ctx)
        if found is None:
            return "absent"
        if found["SubscriptionArn"] == PENDING:
            return "pending confirmation; removed with its topic"
        client("sns").unsubscribe(SubscriptionArn=found["SubscriptionArn"])
        return "deleted"


def settings_resources() -> list[Resource]:
    return [
        SmsAttributes(delivery_settings),
        InboundTopic(),
        # End User Messaging SMS publishes delivery events here (smsbot.provisioning.eum).
        InboundTopic(SMS_EVENTS_TOPIC),
        Retired(Topic(DELIVERY_STATUS_TOPIC), "SNS never publishes SMS statuses to a topic"),
        AlertTopic(),
    ]


def subscription_resources() -> list[Resource]:
    return [Subscription(INBOUND_TOPIC), Subscription(SMS_EVENTS_TOPIC)]
