"""Confirming the portal's SNS HTTP(S) subscriptions, off the request path."""

import logging

from celery import shared_task

from smsbot.aws import client

log = logging.getLogger(__name__)


@shared_task(
    name="messaging.confirm_sns_subscription",
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def confirm_sns_subscription(topic_arn: str, token: str) -> str:
    """Confirm with the token SNS sent; returns the subscription ARN."""
    response = client("sns").confirm_subscription(TopicArn=topic_arn, Token=token)
    arn = response.get("SubscriptionArn", "")
    log.info("confirmed the SNS subscription to %s", topic_arn)
    return arn
