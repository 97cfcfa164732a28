"""The monthly SMS spend limit: one setting, enforced and watched in three places.

SMS_MONTHLY_SPEND_LIMIT_USD sets SNS's MonthlySpendLimit, the threshold of the 80%
spend alarm and the amount of the cost budget. They are planned as one resource so
that changing the limit is one update, whose line names each object it touches.
"""

from __future__ import annotations

from smsbot.provisioning.budgets import Budget
from smsbot.provisioning.cloudwatch import Alarm, spend_alarm
from smsbot.provisioning.core import Group, Resource
from smsbot.provisioning.sns import SmsAttributes, spend_limit


def resources() -> list[Resource]:
    return [
        Group(
            "SMS spend limit",
            "(SMS_MONTHLY_SPEND_LIMIT_USD)",
            [SmsAttributes(spend_limit), Alarm(spend_alarm), Budget()],
        )
    ]
