"""CloudWatch log groups: SNS's SMS delivery log and the portal's own, with retention."""

from __future__ import annotations

from smsbot.aws import resource_name
from smsbot.provisioning.core import Action, Check, Context, Plan, Resource, client

RETENTION_DAYS = 30


def sns_delivery_log_group() -> str:
    return f"/aws/sns/{resource_name('sms-delivery')}"


def portal_log_group() -> str:
    return f"/smsbot/{resource_name('portal')}"


class LogGroup(Resource):
    kind = "CloudWatch log group"

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def _current(self) -> dict | None:
        groups = client("logs").describe_log_groups(logGroupNamePrefix=self.name)["logGroups"]
        return next((g for g in groups if g["logGroupName"] == self.name), None)

    def plan(self, ctx: Context) -> Plan:
        group = self._current()
        if group is None:
            return Plan(Action.CREATE)
        return Plan.compare(group, {"retentionInDays": RETENTION_DAYS})

    def apply(self, ctx: Context, plan: Plan) -> None:
        logs = client("logs")
        if plan.action is Action.CREATE:
            logs.create_log_group(logGroupName=self.name, tags={"Project": "SMSBot"})
        logs.put_retention_policy(logGroupName=self.name, retentionInDays=RETENTION_DAYS)

    def verify(self, ctx: Context) -> list[Check]:
        group = self._current()
        if group is None:
            return [Check(False, f"{self.label}: missing")]
        days = group.get("retentionInDays")
        retention = f"{days} days" if days else "never expires"
        return [Check(days == RETENTION_DAYS, f"{self.label}: exists, retention {retention}")]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        if self._current() is None:
            return "absent"
        client("logs").delete_log_group(logGroupName=self.name)
        return "deleted"


def resources() -> list[Resource]:
    return [LogGroup(sns_delivery_log_group()), LogGroup(portal_log_group())]
