"""The AWS side of the portal, as resources that can be planned, applied, verified, removed.

The order follows the dependencies: IAM → log groups → SNS settings and topics →
two-way on the origination numbers → End User Messaging SMS's configuration set
(events to the events topic) and protect configuration → DynamoDB → subscriptions → monitoring
(dashboard, alarms, the spend limit with its budget). Teardown walks it backwards.
"""

from __future__ import annotations

from smsbot.provisioning import cloudwatch, dynamodb, eum, iam, logs, origination, sns, spend
from smsbot.provisioning.core import Resource
from smsbot.provisioning.secrets import TwilioSecret


def resources(*, with_secrets: bool = False) -> list[Resource]:
    found: list[Resource] = [
        *iam.resources(),
        *logs.resources(),
        *sns.settings_resources(),
        *origination.resources(),
        *eum.resources(),
        *dynamodb.resources(),
        *sns.subscription_resources(),
        *cloudwatch.resources(),
        *spend.resources(),
    ]
    if with_secrets:
        found.append(TwilioSecret())
    return found
