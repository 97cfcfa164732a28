"""The monthly SMS spend limit: one setting, enforced and watched in three places.

SMS_MONTHLY_SPEND_LIMIT_USD sets SNS's MonthlySpendLimit, the threshold of the 80%
spend alarm and the amount of the cost budget. They are planned as one resource so
that changing the limit is one update, whose line names each object it touches.

The account's monthly SMS spend quota caps it: a new account's is 1 USD, and SNS
refuses a MonthlySpendLimit above the quota. The plan then uses the quota and says
what to request to spend more (smsbot.sms_account reads it).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from smsbot import aws, sms_account
from smsbot.provisioning.budgets import Budget
from smsbot.provisioning.cloudwatch import Alarm, spend_alarm
from smsbot.provisioning.core import Context, Group, Resource
from smsbot.provisioning.sns import Attributes, SmsAttributes


class SpendLimit:
    """SMS_MONTHLY_SPEND_LIMIT_USD capped at the account's quota, read once per run."""

    def __init__(self) -> None:
        self._quota: sms_account.SpendQuota | None = None

    def quota(self) -> sms_account.SpendQuota:
        if self._quota is None:
            self._quota = sms_account.spend_quota()
        return self._quota

    def configured(self) -> Decimal:
        return Decimal(settings.SMS_MONTHLY_SPEND_LIMIT_USD)

    def quota_limit(self) -> Decimal:
        """The account's quota; without End User Messaging SMS (a local emulator, see
        smsbot.aws.has_sms_voice) there is none to read: the setting stands."""
        if not aws.has_sms_voice():
            return self.configured()
        return self.quota().limit

    def value(self) -> Decimal:
        return min(self.configured(), self.quota_limit())

    def sns_attributes(self, ctx: Context) -> Attributes:
        return {"MonthlySpendLimit": f"{self.value().normalize():f}"}

    def warnings(self) -> list[str]:
        quota = self.quota_limit()
        if self.configured() <= quota:
            return []
        return [
            f"SMS_MONTHLY_SPEND_LIMIT_USD {self.configured().normalize():f} USD is above the "
            f"account's monthly SMS spend quota of {quota.normalize():f} USD: MonthlySpendLimit, "
            f"the alarm and the budget use {quota.normalize():f} USD. To spend up to "
            f"{self.configured().normalize():f} USD a month, {sms_account.QUOTA_HELP}, then run "
            "provision_aws again."
        ]


def resources() -> list[Resource]:
    limit = SpendLimit()
    return [
        Group(
            "SMS spend limit",
            "(SMS_MONTHLY_SPEND_LIMIT_USD)",
            [
                SmsAttributes(limit.sns_attributes, warnings=limit.warnings),
                Alarm(lambda: spend_alarm(limit.value())),
                Budget(limit.value),
            ],
        )
    ]
