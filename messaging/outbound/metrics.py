"""The send figures workers publish to CloudWatch: sent, failed and spend.

Each figure goes out twice, per provider and channel and as the undimensioned
total that the provisioned dashboard and the worker-failure alarm watch
(CloudWatch alarms cannot add up dimensions). smsbot.metrics buffers and sends.
"""

from decimal import Decimal

from smsbot.aws_names import METRIC_FAILED, METRIC_SENT, METRIC_SPEND
from smsbot.metrics import record


def message_sent(provider: str, channel: str, cost: Decimal) -> None:
    record(METRIC_SENT)
    record(METRIC_SENT, Provider=provider, Channel=channel)
    record(METRIC_SPEND, cost, unit="None")
    record(METRIC_SPEND, cost, unit="None", Provider=provider, Channel=channel)


def message_failed(provider: str, channel: str) -> None:
    record(METRIC_FAILED)
    record(METRIC_FAILED, Provider=provider, Channel=channel)
