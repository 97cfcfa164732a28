"""CloudWatch metric math and alarm evaluation, for alarms moto stores but never evaluates.

Written from AWS's documentation ("Using metric math" in the CloudWatch User Guide,
and "Evaluating an alarm"), for what the portal's alarms use: metric ids, numbers,
+ - * /, comparisons, AND/OR, IF(condition, true[, false]) and FILL(series, value).

- Arithmetic between series treats a value missing on one side as 0; a point
  that would divide by zero is dropped.
- Comparisons return 1 or 0; between two series a missing value counts as 0.
- IF follows the documented table: where the condition is missing, or false with
  no false value, the point is dropped; true with a missing true value gives 0.
- FILL gives every period of the queried range a value.

An alarm breaches at a period when its value compares true with the threshold,
or when the period has no value and TreatMissingData is "breaching"; it is in
ALARM when DatapointsToAlarm of its last EvaluationPeriods periods breach.

    alarm = describe_alarms(...)["MetricAlarms"][0]
    state = evaluate_alarm(alarm, cloudwatch_client, end=now)
"""

import ast
import operator
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

Series = dict[datetime, float]
Value = Series | float

_ARITHMETIC: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_COMPARE: dict[type, Callable[[float, float], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_ALARM_COMPARE = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


class Expression:
    def __init__(self, text: str, series: dict[str, Series], grid: list[datetime]) -> None:
        python = text.replace(" AND ", " and ").replace(" OR ", " or ").replace("&&", " and ")
        self.tree = ast.parse(python.replace("||", " or "), mode="eval").body
        self.series, self.grid = series, grid

    def value(self) -> Series:
        result = self._eval(self.tree)
        return result if isinstance(result, dict) else dict.fromkeys(self.grid, result)

    def _eval(self, node: ast.AST) -> Value:
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return self.series.get(node.id, {})
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return _combine(0.0, self._eval(node.operand), operator.sub, missing=0.0)
        if isinstance(node, ast.BinOp):
            return _combine(
                self._eval(node.left), self._eval(node.right), _ARITHMETIC[type(node.op)], 0.0
            )
        if isinstance(node, ast.Compare):
            [op], [right] = node.ops, node.comparators
            compare = _COMPARE[type(op)]
            return _combine(
                self._eval(node.left),
                self._eval(right),
                lambda a, b: float(compare(a, b)),
                missing=0.0,
            )
        if isinstance(node, ast.BoolOp):
            values = [self._eval(v) for v in node.values]
            both = operator.and_ if isinstance(node.op, ast.And) else operator.or_
            result = values[0]
            for v in values[1:]:
                result = _combine(result, v, lambda a, b: float(both(bool(a), bool(b))), 0.0)
            return result
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [self._eval(a) for a in node.args]
            if node.func.id == "FILL":
                series, filler = args
                return {t: series.get(t, filler) for t in self.grid}  # type: ignore[union-attr]
            if node.func.id == "IF":
                return self._if(*args)
        raise ValueError(f"not supported here: {ast.unparse(node)}")

    def _if(self, condition: Value, true: Value, false: Value | None = None) -> Series:
        if not isinstance(condition, dict):
            chosen = true if condition else false
            return {} if chosen is None else _as_series(chosen, self.grid)
        out: Series = {}
        for moment, flag in condition.items():
            if flag:
                out[moment] = true.get(moment, 0.0) if isinstance(true, dict) else true
            elif false is not None:
                value = false.get(moment) if isinstance(false, dict) else false
                if value is not None:
                    out[moment] = value
        return out


def _as_series(value: Value, grid: list[datetime]) -> Series:
    return value if isinstance(value, dict) else dict.fromkeys(grid, value)


def _combine(
    left: Value, right: Value, op: Callable[[float, float], float], missing: float
) -> Value:
    if not isinstance(left, dict) and not isinstance(right, dict):
        return op(left, right)
    moments = set(left if isinstance(left, dict) else ()) | set(
        right if isinstance(right, dict) else ()
    )
    out: Series = {}
    for moment in sorted(moments):
        a = left.get(moment, missing) if isinstance(left, dict) else left
        b = right.get(moment, missing) if isinstance(right, dict) else right
        try:
            out[moment] = op(a, b)
        except ZeroDivisionError:
            continue  # "the data point is dropped"
    return out


def fetch(cloudwatch: Any, alarm: dict[str, Any], start: datetime, end: datetime) -> dict:
    """The alarm's metrics over [start, end), read back from CloudWatch (moto) by period."""
    queries = [q for q in alarm["Metrics"] if "MetricStat" in q]
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {"Id": q["Id"], "MetricStat": q["MetricStat"], "ReturnData": True} for q in queries
        ],
        StartTime=start,
        EndTime=end,
    )
    return {
        r["Id"]: dict(zip((t.replace(tzinfo=start.tzinfo) for t in r["Timestamps"]), r["Values"],
                          strict=True))
        for r in answer["MetricDataResults"]
    }  # fmt: skip


def evaluate_alarm(cloudwatch: Any, alarm: dict[str, Any], end: datetime) -> tuple[str, list]:
    """("ALARM" | "OK", [(period start, value or None, breaching)]) at end."""
    expression = next(q for q in alarm["Metrics"] if q.get("ReturnData"))
    period = next(q["MetricStat"]["Period"] for q in alarm["Metrics"] if "MetricStat" in q)
    step = timedelta(seconds=period)
    end = end.replace(second=0, microsecond=0)
    count = alarm["EvaluationPeriods"]
    grid = [end - step * (count - i) for i in range(count)]
    series = fetch(cloudwatch, alarm, grid[0], end)
    values = Expression(expression["Expression"], series, grid).value()
    compare = _ALARM_COMPARE[alarm["ComparisonOperator"]]
    points = []
    for moment in grid:
        value = values.get(moment)
        if value is None:
            breaching = alarm.get("TreatMissingData") == "breaching"
        else:
            breaching = compare(value, alarm["Threshold"])
        points.append((moment, value, breaching))
    needed = alarm.get("DatapointsToAlarm") or count
    state = "ALARM" if sum(b for _, _, b in points) >= needed else "OK"
    return state, points
