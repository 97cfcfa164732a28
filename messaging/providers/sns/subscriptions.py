"""Confirming the portal's SNS HTTP(S) subscriptions, off the request path."""

import logging

from smsbot.aws import client

log = logging.getLogger(__name__)


def confirm(topic_arn: str, token: str) -> str:
    """Confirm with the token SNS sent; returns the subscription ARN."""
    response = client("sns").confirm_subscription(TopicArn=topic_arn, Token=token)
    arn = response.get("SubscriptionArn", "")
    log.info("confirmed the SNS subscription to %s", topic_arn)
    return arn
