"""CloudWatch: the operations dashboard and the alarms on SMS delivery and worker failures."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings

from smsbot.aws import resource_name
from smsbot.aws_names import METRIC_FAILED, METRIC_SENT, METRIC_SPEND, METRICS_NAMESPACE
from smsbot.provisioning.core import (
    Action,
    Change,
    Check,
    Context,
    Plan,
    Resource,
    client,
    same_json,
    try_get,
)

DASHBOARD = "SMS-Bot-Operations"
SPEND_ALERT_FRACTION = Decimal("0.8")
SUCCESS_RATE_FLOOR = 0.9

AlarmDefinition = dict[str, object]


def _widget(title: str, metrics: list[list[str]], stat: str, period: int, region: str) -> dict:
    return {
        "type": "metric",
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": region,
            "metrics": metrics,
            "stat": stat,
            "period": period,
            "view": "timeSeries",
        },
    }


def dashboard_body(ctx: Context) -> dict:
    sns, portal, region = "AWS/SNS", METRICS_NAMESPACE, ctx.region
    widgets = [
        _widget(
            "SNS SMS delivered / failed",
            [[sns, "NumberOfNotificationsDelivered"], [sns, "NumberOfNotificationsFailed"]],
            "Sum",
            300,
            region,
        ),
        _widget(
            "SNS SMS spend this month (USD)",
            [[sns, "SMSMonthToDateSpentUSD"]],
            "Maximum",
            3600,
            region,
        ),
        _widget("SNS SMS success rate", [[sns, "SMSSuccessRate"]], "Average", 3600, region),
        _widget(
            "Portal messages sent / failed",
            [[portal, METRIC_SENT], [portal, METRIC_FAILED]],
            "Sum",
            300,
            region,
        ),
        _widget("Portal spend (USD)", [[portal, METRIC_SPEND]], "Sum", 3600, region),
    ]
    for index, widget in enumerate(widgets):
        widget["x"], widget["y"] = (index % 2) * 12, (index // 2) * 6
    return {"widgets": widgets}


class Dashboard(Resource):
    kind = "CloudWatch dashboard"

    @property
    def name(self) -> str:
        return resource_name(DASHBOARD)

    def _current(self) -> dict | None:
        cw = client("cloudwatch")
        found = try_get(lambda: cw.get_dashboard(DashboardName=self.name), "ResourceNotFound")
        return found and json.loads(found["DashboardBody"])

    def plan(self, ctx: Context) -> Plan:
        current = self._current()
        if current is None:
            return Plan(Action.CREATE)
        if same_json(current, dashboard_body(ctx)):
            return Plan(Action.UNCHANGED)
        widgets = len(dashboard_body(ctx)["widgets"])
        return Plan(Action.UPDATE, [Change("body", "differs", f"rewritten ({widgets} widgets)")])

    def apply(self, ctx: Context, plan: Plan) -> None:
        client("cloudwatch").put_dashboard(
            DashboardName=self.name, DashboardBody=json.dumps(dashboard_body(ctx))
        )

    def verify(self, ctx: Context) -> list[Check]:
        current = self._current()
        if current is None:
            return [Check(False, f"{self.label}: missing")]
        as_planned = same_json(current, dashboard_body(ctx))
        return [
            Check(
                as_planned,
                f"{self.label}: {len(current.get('widgets', []))} widgets, "
                f"{'as provisioned' if as_planned else 'differs from what provision_aws writes'}",
            )
        ]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        if self._current() is None:
            return "absent"
        client("cloudwatch").delete_dashboards(DashboardNames=[self.name])
        return "deleted"


def spend_alarm() -> AlarmDefinition:
    threshold = settings.SMS_MONTHLY_SPEND_LIMIT_USD * SPEND_ALERT_FRACTION
    return {
        "AlarmName": resource_name("sms-spend-80pct"),
        "AlarmDescription": "SNS SMS month-to-date spend reached 80% of the monthly limit",
        "Namespace": "AWS/SNS",
        "MetricName": "SMSMonthToDateSpentUSD",
        "Statistic": "Maximum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": float(threshold),
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
    }


def success_rate_alarm() -> AlarmDefinition:
    return {
        "AlarmName": resource_name("sms-success-rate-low"),
        "AlarmDescription": "SNS SMS delivery success rate under 90%",
        "Namespace": "AWS/SNS",
        "MetricName": "SMSSuccessRate",
        "Statistic": "Average",
        "Period": 3600,
        "EvaluationPeriods": 1,
        "Threshold": SUCCESS_RATE_FLOOR,
        "ComparisonOperator": "LessThanThreshold",
        "TreatMissingData": "notBreaching",
    }


def worker_failures_alarm() -> AlarmDefinition:
    return {
        "AlarmName": resource_name("smsbot-worker-failures"),
        "AlarmDescription": "Portal workers failed more sends than the threshold in 5 minutes",
        "Namespace": METRICS_NAMESPACE,
        "MetricName": METRIC_FAILED,
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": float(settings.SMS_WORKER_FAILURE_ALARM_THRESHOLD),
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }


class Alarm(Resource):
    kind = "CloudWatch alarm"

    def __init__(self, definition: Callable[[], AlarmDefinition]) -> None:
        self.definition = definition

    @property
    def name(self) -> str:
        return str(self.definition()["AlarmName"])

    def _current(self) -> dict | None:
        alarms = client("cloudwatch").describe_alarms(AlarmNames=[self.name])["MetricAlarms"]
        return alarms[0] if alarms else None

    def plan(self, ctx: Context) -> Plan:
        current = self._current()
        return Plan(Action.CREATE) if current is None else Plan.compare(current, self.definition())

    def apply(self, ctx: Context, plan: Plan) -> None:
        client("cloudwatch").put_metric_alarm(**self.definition())

    def verify(self, ctx: Context) -> list[Check]:
        current = self._current()
        if current is None:
            return [Check(False, f"{self.label}: missing")]
        drift = Plan.compare(current, self.definition()).changes
        wanted = self.definition()
        rule = f"{wanted['MetricName']} {wanted['ComparisonOperator']} {wanted['Threshold']}"
        note = f"differs: {'; '.join(map(str, drift))}" if drift else "as provisioned"
        return [
            Check(not drift, f"{self.label}: {rule}, state {current.get('StateValue')}, {note}")
        ]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        if self._current() is None:
            return "absent"
        client("cloudwatch").delete_alarms(AlarmNames=[self.name])
        return "deleted"


def resources() -> list[Resource]:
    return [Dashboard(), Alarm(success_rate_alarm), Alarm(worker_failures_alarm)]
