"""Amazon SES v2 for e-mail: the sending identity, the configuration set, the feedback topic.

With EMAIL_FROM set (e-mail on), provision_aws creates the domain of its address as
an SES identity with Easy DKIM and prints the three CNAME records SES gave it: SES
verifies the domain (and signs its mail) once it finds them in DNS, looking for up
to 72 hours. The configuration set every SendEmail names (messaging.providers.ses)
has one event destination publishing bounces, complaints and deliveries to the
feedback topic, whose access policy lets SES publish for that configuration set
alone, and whose HTTPS subscription goes to /webhooks/ses/. verify_aws adds the
account's standing: the SES sandbox (a new account's: verified recipients only,
200 a day, 1 a second) and the sending quota. With e-mail off there is nothing.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from smsbot.aws import resource_name
from smsbot.aws_names import SES_CONFIGURATION_SET, SES_EVENT_DESTINATION, SES_FEEDBACK_TOPIC
from smsbot.provisioning.core import (
    Action,
    Change,
    Check,
    Context,
    Plan,
    Resource,
    client,
    describe_error,
    email_domain,
    ses_configuration_set_arn,
    topic_arn,
    try_get,
)
from smsbot.provisioning.sns import ServiceTopic, Subscription

SERVICE = "sesv2"
TAGS = [{"Key": "Project", "Value": "SMSBot"}]
WEBHOOK_PATH = "/webhooks/ses/"
# The events /webhooks/ses/ is sent (messaging.providers.ses.feedback acts on bounces
# and complaints; deliveries are kept as the record that mail arrived).
MATCHING_EVENT_TYPES = ["BOUNCE", "COMPLAINT", "DELIVERY"]
# Easy DKIM: SES makes the keys and hosts the public halves under its own domain.
DKIM_HOST = "dkim.amazonses.com"
DNS_WAIT = "SES looks for them for up to 72 hours"
PRODUCTION_ACCESS_HELP = (
    "request production access (SES console › Get set up › Request production access, "
    "or `aws sesv2 put-account-details --production-access-enabled`, with the use case); "
    "AWS answers within a day"
)


def enabled() -> bool:
    """E-mail is on when there is a sender (EMAIL_FROM)."""
    return bool(settings.EMAIL_FROM)


def dkim_records(domain: str, tokens: list[str]) -> list[str]:
    """The Easy DKIM CNAME records, as an operator types them into a DNS host."""
    return [f"{t}._domainkey.{domain}  CNAME  {t}.{DKIM_HOST}" for t in tokens]


# What verify_aws says of each DKIM status (DkimAttributes.Status, SES API v2 reference):
# ok (None: noted, SES retries by itself) and what to do.
DKIM_STATUS = {
    "SUCCESS": (True, "SES found the CNAME records; mail from the domain is DKIM-signed"),
    "PENDING": (
        False,
        f"SES has not found the CNAME records yet: publish the 3 records provision_aws "
        f"prints at the domain's DNS host ({DNS_WAIT})",
    ),
    "FAILED": (
        False,
        "SES did not find the CNAME records within 72 hours and stopped looking: publish "
        "the records provision_aws prints, then restart verification (teardown_aws and "
        "provision_aws, or the identity's page in the SES console)",
    ),
    "TEMPORARY_FAILURE": (None, "a temporary problem kept SES from checking; it retries"),
    "NOT_STARTED": (False, "DKIM verification has not started: run provision_aws"),
}


class EmailIdentity(Resource):
    """The domain of EMAIL_FROM as an SES identity, with Easy DKIM (2048-bit keys)."""

    kind = "SES identity"

    @property
    def name(self) -> str:
        return email_domain()

    def _current(self) -> dict[str, Any] | None:
        ses = client(SERVICE)
        return try_get(lambda: ses.get_email_identity(EmailIdentity=self.name), "NotFoundException")

    def plan(self, ctx: Context) -> Plan:
        return Plan(Action.UNCHANGED if self._current() else Action.CREATE)

    def apply(self, ctx: Context, plan: Plan) -> None:
        client(SERVICE).create_email_identity(
            EmailIdentity=self.name,
            DkimSigningAttributes={"NextSigningKeyLength": "RSA_2048_BIT"},
            Tags=TAGS,
        )

    def notes(self, ctx: Context) -> list[str]:
        """The records to publish, every run until SES has found them."""
        found = self._current()
        dkim = (found or {}).get("DkimAttributes", {})
        if not found or dkim.get("Status") == "SUCCESS" or not dkim.get("Tokens"):
            return []
        return [
            f"publish these DNS records for {self.name} (DKIM {dkim.get('Status')}; {DNS_WAIT}):",
            *dkim_records(self.name, dkim["Tokens"]),
        ]

    def verify(self, ctx: Context) -> list[Check]:
        found = self._current()
        if found is None:
            return [Check(False, f"{self.label}: missing — no e-mail can be sent from it")]
        verified = bool(found.get("VerifiedForSendingStatus"))
        status = found.get("DkimAttributes", {}).get("Status", "NOT_STARTED")
        ok, meaning = DKIM_STATUS.get(status, (False, "unknown to this version"))
        return [
            Check(
                verified,
                f"{self.label}: verified for sending: "
                + ("yes" if verified else "NO — SES refuses mail from it until DKIM succeeds"),
            ),
            Check(ok, f"{self.label}: DKIM {status} — {meaning}"),
        ]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        if self._current() is None:
            return "absent"
        client(SERVICE).delete_email_identity(EmailIdentity=self.name)
        return "deleted (its DNS records can go too)"


class FeedbackTopic(ServiceTopic):
    """The topic the configuration set's event destination publishes to.

    SES needs the topic's leave to publish (SES Developer Guide, "Setting up an Amazon
    SNS event destination for event publishing"); aws:SourceArn limits it to the
    portal's configuration set, aws:SourceAccount to this account.
    """

    principal = "ses.amazonaws.com"
    sid = "SesEventPublishing"
    consequence = "bounces and complaints cannot arrive"

    def __init__(self) -> None:
        super().__init__(SES_FEEDBACK_TOPIC)

    def condition(self, ctx: Context) -> dict[str, object]:
        return {
            "StringEquals": {
                "aws:SourceAccount": ctx.account_id,
                "aws:SourceArn": ses_configuration_set_arn(ctx),
            }
        }


class ConfigurationSet(Resource):
    """The configuration set and its one event destination (to the feedback topic)."""

    kind = "SES configuration set"

    @property
    def name(self) -> str:
        topic = resource_name(SES_FEEDBACK_TOPIC)
        return f"{resource_name(SES_CONFIGURATION_SET)} (events → {topic})"

    def _exists(self) -> bool:
        ses = client(SERVICE)
        name = resource_name(SES_CONFIGURATION_SET)
        found = try_get(
            lambda: ses.get_configuration_set(ConfigurationSetName=name), "NotFoundException"
        )
        return found is not None

    def _destination(self, ctx: Context) -> dict[str, Any]:
        return {
            "Enabled": True,
            "MatchingEventTypes": MATCHING_EVENT_TYPES,
            "SnsDestination": {"TopicArn": topic_arn(ctx, SES_FEEDBACK_TOPIC)},
        }

    def _ours(self) -> dict[str, Any] | None:
        found = client(SERVICE).get_configuration_set_event_destinations(
            ConfigurationSetName=resource_name(SES_CONFIGURATION_SET)
        )
        return next(
            (d for d in found["EventDestinations"] if d["Name"] == SES_EVENT_DESTINATION), None
        )

    def plan(self, ctx: Context) -> Plan:
        if not self._exists():
            return Plan(Action.CREATE)
        found = self._ours()
        if found is None:
            return Plan(Action.UPDATE, [Change("event destination", "missing", "create")])
        current = {
            "Enabled": found.get("Enabled", False),
            "MatchingEventTypes": sorted(found.get("MatchingEventTypes", [])),
            "SnsDestination": found.get("SnsDestination"),
        }
        plan = Plan.compare(current, self._destination(ctx))
        plan.current = "update"
        return plan

    def apply(self, ctx: Context, plan: Plan) -> None:
        ses = client(SERVICE)
        name = resource_name(SES_CONFIGURATION_SET)
        if plan.action is Action.CREATE:
            ses.create_configuration_set(
                ConfigurationSetName=name, SendingOptions={"SendingEnabled": True}, Tags=TAGS
            )
        call = (
            ses.update_configuration_set_event_destination
            if plan.current == "update"
            else ses.create_configuration_set_event_destination
        )
        call(
            ConfigurationSetName=name,
            EventDestinationName=SES_EVENT_DESTINATION,
            EventDestination=self._destination(ctx),
        )

    def verify(self, ctx: Context) -> list[Check]:
        plan = self.plan(ctx)
        if plan.action is Action.CREATE:
            return [Check(False, f"{self.label}: missing — SendEmail naming it is refused")]
        if plan.changes:
            detail = "; ".join(str(c) for c in plan.changes)
            return [Check(False, f"{self.label}: event destination differs ({detail})")]
        events = ", ".join(t.lower() for t in MATCHING_EVENT_TYPES)
        return [Check(True, f"{self.label}: exists; {events} published to the topic")]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        if not self._exists():
            return "absent"
        client(SERVICE).delete_configuration_set(
            ConfigurationSetName=resource_name(SES_CONFIGURATION_SET)
        )
        return "deleted (with its event destination)"


def resources() -> list[Resource]:
    if not enabled():
        return []
    return [
        EmailIdentity(),
        FeedbackTopic(),
        ConfigurationSet(),
        Subscription(SES_FEEDBACK_TOPIC, WEBHOOK_PATH),
    ]


def standing_checks(account: dict[str, Any]) -> list[Check]:
    """verify_aws's lines on the account (sesv2 GetAccount): provisioning cannot change
    these, so the sandbox and a spent quota are noted, not failed; paused sending fails."""
    checks = []
    if not account.get("SendingEnabled", True):
        checks.append(
            Check(
                False,
                f"SES account: sending is PAUSED (enforcement status "
                f"{account.get('EnforcementStatus', 'unknown')}) — see the SES console's "
                "account dashboard for why and how to ask for it to resume",
            )
        )
    if account.get("ProductionAccessEnabled"):
        checks.append(Check(True, "SES account: production access (mail to any address)"))
    else:
        checks.append(
            Check(
                None,
                "SES account: IN THE SANDBOX — mail reaches verified addresses and domains "
                f"only, at most 200 a day, 1 a second. To send to subscribers, "
                f"{PRODUCTION_ACCESS_HELP}",
            )
        )
    quota = account.get("SendQuota", {})
    most, sent = quota.get("Max24HourSend", 0), quota.get("SentLast24Hours", 0)
    line = (
        f"SES sending quota: {most:g} e-mails per 24 hours, {quota.get('MaxSendRate', 0):g} a "
        f"second; {sent:g} sent in the last 24 hours"
    )
    if most and sent >= most:
        checks.append(Check(None, f"{line} — used up: SES refuses mail until older sends age out"))
    else:
        checks.append(Check(True, line))
    return checks


def account_checks() -> list[Check]:
    if not enabled():
        return []
    try:
        account = client(SERVICE).get_account()
    except (ClientError, BotoCoreError) as exc:
        return [Check(False, f"SES account: could not check — {describe_error(exc)}")]
    return standing_checks(account)
