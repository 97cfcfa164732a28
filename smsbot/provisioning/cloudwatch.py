"""CloudWatch: the operations dashboard and the alarms, each notifying the alerts topic.

Alarms: SNS spend at 80 % of the limit (in spend.py), SNS's own success rate,
worker send failures, the delivery failure rate over an hour, DynamoDB mirror
errors, and a dead-man's switch: the beat heartbeat stopping for 10 minutes, and
today's broadcast not begun 30 minutes after its time on a day with content.
The last three are metric math over the portal's own metrics (smsbot.aws_names);
missing data counts as breaching where silence itself is the failure. With
ALERT_EMAILS set, every alarm has the alerts topic in AlarmActions and OKActions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings

from smsbot.aws import resource_name
from smsbot.aws_names import (
    ALERTS_TOPIC,
    METRIC_BROADCAST_BRAKED,
    METRIC_DAILY_PENDING,
    METRIC_DAILY_STARTED,
    METRIC_DELIVERED,
    METRIC_FAILED,
    METRIC_HEARTBEAT,
    METRIC_MIRROR_ERRORS,
    METRIC_SENT,
    METRIC_SPEND,
    METRIC_UNDELIVERED,
    METRICS_NAMESPACE,
)
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
# Below this many delivery reports in the hour, a failure rate says little: no alarm.
FAILURE_RATE_MIN_REPORTS = 10
HEARTBEAT_MINUTES = 10
MIRROR_ERROR_PERIODS = 2  # reconcile runs (5 minutes apart) that could not heal a row

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
        _widget(
            "Delivery reports: delivered / undelivered",
            [[portal, METRIC_DELIVERED], [portal, METRIC_UNDELIVERED]],
            "Sum",
            3600,
            region,
        ),
        _widget(
            "Beat heartbeat; daily broadcast pending / started",
            [
                [portal, METRIC_HEARTBEAT],
                [portal, METRIC_DAILY_PENDING],
                [portal, METRIC_DAILY_STARTED],
            ],
            "Sum",
            60,
            region,
        ),
        _widget("DynamoDB mirror errors", [[portal, METRIC_MIRROR_ERRORS]], "Maximum", 300, region),
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


def spend_alarm(limit: Decimal) -> AlarmDefinition:
    threshold = limit * SPEND_ALERT_FRACTION
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


def _math_alarm(
    name: str,
    description: str,
    metrics: dict[str, tuple[str, str]],
    expression: str,
    *,
    period: int,
    threshold: float,
    comparison: str,
    evaluation_periods: int,
    missing: str,
) -> AlarmDefinition:
    """An alarm on a metric math expression over the portal's metrics.

    metrics maps each id in the expression to (metric name, statistic); every one
    of evaluation_periods periods must breach (DatapointsToAlarm = all of them).
    """
    queries: list[dict[str, object]] = [
        {
            "Id": query_id,
            "MetricStat": {
                "Metric": {"Namespace": METRICS_NAMESPACE, "MetricName": metric},
                "Period": period,
                "Stat": stat,
            },
            "ReturnData": False,
        }
        for query_id, (metric, stat) in metrics.items()
    ]
    queries.append({"Id": "alarm", "Expression": expression, "Label": name, "ReturnData": True})
    return {
        "AlarmName": resource_name(name),
        "AlarmDescription": description,
        "Metrics": queries,
        "EvaluationPeriods": evaluation_periods,
        "DatapointsToAlarm": evaluation_periods,
        "Threshold": threshold,
        "ComparisonOperator": comparison,
        "TreatMissingData": missing,
    }


def delivery_failure_rate_alarm() -> AlarmDefinition:
    rate = "100 * undelivered / (delivered + undelivered)"
    return _math_alarm(
        "smsbot-delivery-failure-rate",
        f"More than ALERT_FAILURE_RATE % of the delivery reports in an hour said undelivered "
        f"(from {FAILURE_RATE_MIN_REPORTS} reports up)",
        {"delivered": (METRIC_DELIVERED, "Sum"), "undelivered": (METRIC_UNDELIVERED, "Sum")},
        f"IF((delivered + undelivered) >= {FAILURE_RATE_MIN_REPORTS}, {rate}, 0)",
        period=3600,
        threshold=float(settings.ALERT_FAILURE_RATE),
        comparison="GreaterThanThreshold",
        evaluation_periods=1,
        missing="notBreaching",
    )


def heartbeat_alarm() -> AlarmDefinition:
    return _math_alarm(
        "smsbot-beat-heartbeat",
        f"No heartbeat for {HEARTBEAT_MINUTES} minutes: Celery beat or every worker is down",
        {"beat": (METRIC_HEARTBEAT, "Sum")},
        "FILL(beat, 0)",
        period=60,
        threshold=1.0,
        comparison="LessThanThreshold",
        evaluation_periods=HEARTBEAT_MINUTES,
        missing="breaching",
    )


def daily_broadcast_alarm() -> AlarmDefinition:
    # pending is 1 each minute today's broadcast is due and has not begun (sent by the
    # heartbeat, which knows the schedule and the content); started is the worker's
    # signal. Missing both means the heartbeat is silent: nothing can start it either.
    # DAILY_MISSED_ALARM_MINUTES pending minutes is "missed" in messaging.broadcasts.due.
    minutes = settings.DAILY_MISSED_ALARM_MINUTES
    return _math_alarm(
        "smsbot-daily-broadcast-missed",
        f"Today's broadcast has not begun {minutes} minutes after its send "
        "time on a day with content (or the heartbeat that would say so is silent)",
        {"pending": (METRIC_DAILY_PENDING, "Maximum"), "started": (METRIC_DAILY_STARTED, "Sum")},
        "pending - started",
        period=60,
        threshold=1.0,
        comparison="GreaterThanOrEqualToThreshold",
        evaluation_periods=minutes,
        missing="breaching",
    )


def mirror_errors_alarm() -> AlarmDefinition:
    return {
        "AlarmName": resource_name("smsbot-mirror-errors"),
        "AlarmDescription": "Rows the DynamoDB mirror could not write, through two reconcile runs",
        "Namespace": METRICS_NAMESPACE,
        "MetricName": METRIC_MIRROR_ERRORS,
        "Statistic": "Maximum",
        "Period": 300,
        "EvaluationPeriods": MIRROR_ERROR_PERIODS,
        "DatapointsToAlarm": MIRROR_ERROR_PERIODS,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }


def broadcast_braked_alarm() -> AlarmDefinition:
    return {
        "AlarmName": resource_name("smsbot-broadcast-braked"),
        "AlarmDescription": "A broadcast paused itself (failure spike or content blocked as "
        "spam): see the admin home's banner, then resume or cancel it with a reason",
        "Namespace": METRICS_NAMESPACE,
        "MetricName": METRIC_BROADCAST_BRAKED,
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }


def alarm_actions(ctx: Context) -> list[str]:
    """The alerts topic when ALERT_EMAILS names someone to tell, else nothing."""
    return [ctx.arn("sns", resource_name(ALERTS_TOPIC))] if settings.ALERT_EMAILS else []


def _canonical_metrics(queries: list[dict] | None) -> list[dict] | None:
    """The parts of an alarm's metric queries that matter, as AWS and moto both echo them."""
    if not queries:
        return None
    out = []
    for q in queries:
        item = {"Id": q["Id"], "ReturnData": q.get("ReturnData", True)}
        if "Expression" in q:
            item |= {"Expression": q["Expression"], "Label": q.get("Label", "")}
        if "MetricStat" in q:
            stat, metric = q["MetricStat"], q["MetricStat"]["Metric"]
            dims = sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions") or [])
            item |= {
                "Metric": (metric["Namespace"], metric["MetricName"], dims),
                "Period": stat["Period"],
                "Stat": stat["Stat"],
            }
        out.append(item)
    return out


class Alarm(Resource):
    kind = "CloudWatch alarm"

    def __init__(self, definition: Callable[[], AlarmDefinition]) -> None:
        self.definition = definition

    @property
    def name(self) -> str:
        return str(self.definition()["AlarmName"])

    def desired(self, ctx: Context) -> AlarmDefinition:
        actions = alarm_actions(ctx)
        return {**self.definition(), "AlarmActions": actions, "OKActions": actions}

    def _current(self) -> dict | None:
        alarms = client("cloudwatch").describe_alarms(AlarmNames=[self.name])["MetricAlarms"]
        return alarms[0] if alarms else None

    def _drift(self, ctx: Context, current: dict) -> list[Change]:
        wanted = self.desired(ctx)
        seen = {key: current.get(key) for key in wanted}
        if "Metrics" in wanted:
            seen["Metrics"] = _canonical_metrics(current.get("Metrics"))
            wanted = {**wanted, "Metrics": _canonical_metrics(wanted["Metrics"])}
        changes = Plan.compare(seen, wanted).changes
        # A metric math alarm's queries are long: say that they differ, not how.
        return [
            Change("Metrics", "differ", "rewritten") if c.field == "Metrics" else c for c in changes
        ]

    def plan(self, ctx: Context) -> Plan:
        current = self._current()
        if current is None:
            return Plan(Action.CREATE)
        changes = self._drift(ctx, current)
        return Plan(Action.UPDATE if changes else Action.UNCHANGED, changes)

    def apply(self, ctx: Context, plan: Plan) -> None:
        client("cloudwatch").put_metric_alarm(**self.desired(ctx))

    def verify(self, ctx: Context) -> list[Check]:
        current = self._current()
        if current is None:
            return [Check(False, f"{self.label}: missing")]
        drift = self._drift(ctx, current)
        wanted = self.definition()
        watched = wanted.get("MetricName") or next(
            q["Expression"] for q in wanted["Metrics"] if q.get("ReturnData")
        )
        rule = f"{watched} {wanted['ComparisonOperator']} {wanted['Threshold']}"
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
    return [
        Dashboard(),
        Alarm(success_rate_alarm),
        Alarm(worker_failures_alarm),
        Alarm(delivery_failure_rate_alarm),
        Alarm(heartbeat_alarm),
        Alarm(daily_broadcast_alarm),
        Alarm(mirror_errors_alarm),
        Alarm(broadcast_braked_alarm),
    ]
