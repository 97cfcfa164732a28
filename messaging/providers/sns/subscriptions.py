"""Confirming the portal's SNS HTTP(S) subscriptions, off the request path."""

import logging

from messaging.providers.sns.verification import ForeignTopic, topic_kind
from smsbot.aws import client

log = logging.getLogger(__name__)


def confirm(topic_arn: str, token: str) -> str:
    """Confirm with the token SNS sent; returns the subscription ARN ("" when refused)."""
    try:
        topic_kind(topic_arn)
    except ForeignTopic as exc:
        # The webhook queues only our topics; this guards any other way in.
        log.error("SNS subscription not confirmed: %s", exc)
        return ""
    response = client("sns").confirm_subscription(TopicArn=topic_arn, Token=token)
    arn = response.get("SubscriptionArn", "")
    log.info("confirmed the SNS subscription to %s", topic_arn)
    return arn
