"""AWS Budgets: a monthly cost budget for SNS at the SMS spend limit, alerting at 80%."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.conf import settings

from smsbot.aws import resource_name
from smsbot.provisioning.core import Action, Change, Check, Context, Plan, Resource, client, try_get

BUDGET = "smsbot-monthly-sms"
ALERT_PERCENT = 80.0
NOTIFICATION = {
    "NotificationType": "ACTUAL",
    "ComparisonOperator": "GREATER_THAN",
    "Threshold": ALERT_PERCENT,
    "ThresholdType": "PERCENTAGE",
}


class Budget(Resource):
    kind = "budget"

    def __init__(self, limit: Callable[[], Decimal]) -> None:
        self._limit = limit

    @property
    def name(self) -> str:
        return resource_name(BUDGET)

    def _current(self, ctx: Context) -> tuple[dict | None, list[dict]]:
        budgets = client("budgets")
        found = try_get(
            lambda: budgets.describe_budget(AccountId=ctx.account_id, BudgetName=self.name),
            "NotFoundException",
        )
        if found is None:
            return None, []
        notifications = budgets.describe_notifications_for_budget(
            AccountId=ctx.account_id, BudgetName=self.name
        )["Notifications"]
        return found["Budget"], notifications

    def _warnings(self) -> list[str]:
        if settings.BUDGET_ALERT_EMAIL:
            return []
        return ["BUDGET_ALERT_EMAIL is not set: the budget gets no 80% e-mail alert"]

    def plan(self, ctx: Context) -> Plan:
        budget, notifications = self._current(ctx)
        if budget is None:
            return Plan(Action.CREATE, warnings=self._warnings())
        changes = []
        amount = Decimal(budget["BudgetLimit"]["Amount"])
        if amount != self._limit():
            changes.append(Change("limit", f"{amount.normalize():f} USD", f"{self._limit():f} USD"))
        has_alert = any(_is_our_alert(n) for n in notifications)
        if has_alert != bool(settings.BUDGET_ALERT_EMAIL):
            before, after = ("on", "off") if has_alert else ("off", "on")
            changes.append(Change("80% e-mail alert", before, after))
        action = Action.UPDATE if changes else Action.UNCHANGED
        return Plan(action, changes, self._warnings())

    def apply(self, ctx: Context, plan: Plan) -> None:
        budgets = client("budgets")
        if plan.action is Action.UPDATE:
            # Replaced rather than updated: create and delete are all the budget needs,
            # and AWS recomputes its spend from billing data, so nothing is lost.
            budgets.delete_budget(AccountId=ctx.account_id, BudgetName=self.name)
        alerts = []
        if settings.BUDGET_ALERT_EMAIL:
            alerts.append(
                {
                    "Notification": NOTIFICATION,
                    "Subscribers": [
                        {"SubscriptionType": "EMAIL", "Address": settings.BUDGET_ALERT_EMAIL}
                    ],
                }
            )
        budgets.create_budget(
            AccountId=ctx.account_id,
            Budget={
                "BudgetName": self.name,
                "BudgetType": "COST",
                "TimeUnit": "MONTHLY",
                "BudgetLimit": {"Amount": f"{self._limit():f}", "Unit": "USD"},
                "CostFilters": {"Service": ["Amazon Simple Notification Service"]},
            },
            NotificationsWithSubscribers=alerts,
        )

    def verify(self, ctx: Context) -> list[Check]:
        budget, notifications = self._current(ctx)
        if budget is None:
            return [Check(False, f"{self.label}: missing")]
        amount = Decimal(budget["BudgetLimit"]["Amount"])
        alert = any(_is_our_alert(n) for n in notifications)
        wants_alert = bool(settings.BUDGET_ALERT_EMAIL)
        return [
            Check(
                amount == self._limit() and alert == wants_alert,
                f"{self.label}: monthly {budget['BudgetType']} limit {amount.normalize():f} USD, "
                f"80% alert {'on' if alert else 'off'}"
                + ("" if wants_alert else " (BUDGET_ALERT_EMAIL not set)"),
            )
        ]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        if self._current(ctx)[0] is None:
            return "absent"
        client("budgets").delete_budget(AccountId=ctx.account_id, BudgetName=self.name)
        return "deleted"


def _is_our_alert(notification: dict) -> bool:
    return all(notification.get(k) == v for k, v in NOTIFICATION.items())
