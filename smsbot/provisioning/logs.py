"""CloudWatch log groups: SNS's SMS delivery logs and the portal's own, with retention.

SNS names its SMS delivery log groups itself (sns/<region>/<account>/
DirectPublishToPhoneNumber and .../Failure) and creates them on first use with
no retention, so they would keep every line forever: creating them ahead of SNS
gives them RETENTION_DAYS. The portal reads them (fetch_sns_delivery).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smsbot import aws
from smsbot.aws import resource_name
from smsbot.aws_names import METRIC_SENT, METRICS_NAMESPACE
from smsbot.provisioning.core import Action, Check, Context, Plan, Resource, Retired, client

RETENTION_DAYS = 30


def portal_log_group() -> str:
    return f"/smsbot/{resource_name('portal')}"


def retired_delivery_log_group() -> str:
    """Where older versions expected SNS's delivery logs; SNS never wrote there."""
    return f"/aws/sns/{resource_name('sms-delivery')}"


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


class SnsLogGroup(LogGroup):
    """One of SNS's SMS delivery log groups; its name holds the account id."""

    def __init__(self, *, failures: bool) -> None:
        self.failures = failures

    @property
    def name(self) -> str:
        successes, failures = aws.sns_log_groups()
        return failures if self.failures else successes


def resources() -> list[Resource]:
    return [
        SnsLogGroup(failures=False),
        SnsLogGroup(failures=True),
        LogGroup(portal_log_group()),
        Retired(LogGroup(retired_delivery_log_group()), "SNS never writes there"),
    ]


FLOWING_WITHIN = timedelta(days=1)
# SNS writes a delivery line once the carrier answers, which takes up to a few
# minutes: sends younger than this cannot have one yet, so they are not judged.
SETTLING = timedelta(minutes=5)


def newest_delivery_line() -> datetime | None:
    """When SNS last wrote a delivery line to either group (None: never, or no group).

    lastEventTimestamp of the busiest-recent stream; AWS updates it within about
    an hour of ingestion, which is well inside the day this check allows.
    """
    logs = client("logs")
    newest = None
    for group in aws.sns_log_groups():
        try:
            streams = logs.describe_log_streams(
                logGroupName=group, orderBy="LastEventTime", descending=True, limit=1
            )["logStreams"]
        except logs.exceptions.ResourceNotFoundException:
            continue
        stamp = streams[0].get("lastEventTimestamp") if streams else None
        if stamp:
            moment = datetime.fromtimestamp(stamp / 1000, tz=UTC)
            newest = max(newest, moment) if newest else moment
    return newest


def sns_sms_sent(since: datetime, until: datetime) -> int:
    """SMS the portal's workers sent through SNS in [since, until), from their own metric."""
    answer = client("cloudwatch").get_metric_statistics(
        Namespace=METRICS_NAMESPACE,
        MetricName=METRIC_SENT,
        Dimensions=[{"Name": "Channel", "Value": "sms"}, {"Name": "Provider", "Value": "sns"}],
        StartTime=since,
        EndTime=until,
        # Minutes, so that until cuts where it says (a day is 1440 of them, CloudWatch's
        # most data points for one call).
        Period=60,
        Statistics=["Sum"],
    )
    return int(sum(point["Sum"] for point in answer["Datapoints"]))


def delivery_logs_flowing(now: datetime | None = None) -> Check:
    """verify_aws's "CloudWatch logs flowing": a delivery line within a day of SMS sent
    (those sent in the last SETTLING minutes aside)."""
    now = now or datetime.now(UTC)
    label = "CloudWatch logs flowing"
    sent = sns_sms_sent(now - FLOWING_WITHIN, now - SETTLING)
    newest = newest_delivery_line()
    seen = f"newest delivery line {newest:%Y-%m-%d %H:%M} UTC" if newest else "no delivery line yet"
    if newest and now - newest < FLOWING_WITHIN:
        return Check(True, f"{label}: {seen}")
    if not sent:
        settling = int(SETTLING.total_seconds() // 60)
        return Check(
            None,
            f"{label}: no SMS sent through SNS in the last day (those of the last {settling} "
            f"minutes are not judged: their lines may not be written yet); {seen}",
        )
    return Check(
        False,
        f"{label}: {sent} SMS sent through SNS in the last day but {seen} — check the "
        "DeliveryStatusIAMRole SMS setting and the sns-sms-logs role",
    )
