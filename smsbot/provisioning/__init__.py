"""The AWS side of the portal, as resources that can be planned, applied, verified, removed.

The order follows the dependencies: IAM → log groups → SNS settings and topics →
two-way on the origination numbers → End User Messaging SMS's configuration set
(events to the events topic) and protect configuration → with EMAIL_FROM, SES (the
identity, the feedback topic, the configuration set, the topic's subscription) →
DynamoDB → subscriptions →
monitoring (dashboard, alarms, the spend limit with its budget) → with DEPLOY_TARGET=ecs,
the hosting (ecs.py) and GitHub's way in to deploy (github.py). Teardown walks it backwards.
"""

from __future__ import annotations

from smsbot.provisioning import (
    cloudwatch,
    dynamodb,
    ecs,
    eum,
    github,
    iam,
    logs,
    origination,
    ses,
    sns,
    spend,
)
from smsbot.provisioning.core import Resource
from smsbot.provisioning.secrets import TwilioSecret


def resources(*, with_secrets: bool = False, tearing_down: bool = False) -> list[Resource]:
    found: list[Resource] = [
        *iam.resources(),
        *logs.resources(),
        *sns.settings_resources(),
        *origination.resources(),
        *eum.resources(),
        *ses.resources(),
        *dynamodb.resources(),
        *sns.subscription_resources(),
        *cloudwatch.resources(),
        *spend.resources(),
    ]
    if with_secrets:
        found.append(TwilioSecret())
    if ecs.enabled():
        found += [*ecs.resources(), *github.resources(all_of_them=tearing_down)]
    return found
