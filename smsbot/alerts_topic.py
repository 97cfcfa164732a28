"""Publishing to the alerts topic (ALERTS_TOPIC, made by provision_aws).

CloudWatch's alarms notify the topic with their own words, which cannot name a
broadcast or say what to do about it; the portal publishes such an alert itself
(the brake's: which broadcast, which errors, where to resume or cancel it). The
topic's subscribers are ALERT_EMAILS, the same rule as the alarms' actions
(smsbot.provisioning.cloudwatch.alarm_actions): without them nobody would read
it, and nothing is published.
"""

from django.conf import settings

from smsbot import aws
from smsbot.aws_names import ALERTS_TOPIC

# SNS's Subject: ASCII, no line breaks, under 100 characters (the e-mail's subject line).
SUBJECT_LIMIT = 99


def topic_arn() -> str:
    name = aws.resource_name(ALERTS_TOPIC)
    return f"arn:aws:sns:{settings.AWS_REGION}:{aws.account_id()}:{name}"


def publish(subject: str, text: str) -> str:
    """Publish one alert; SNS's MessageId, or "" when nobody is subscribed (ALERT_EMAILS
    unset). AWS's errors propagate: the task that calls this retries them."""
    if not settings.ALERT_EMAILS:
        return ""
    ascii_subject = " ".join(subject.encode("ascii", "replace").decode().split())
    answer = aws.client("sns").publish(
        TopicArn=topic_arn(), Subject=ascii_subject[:SUBJECT_LIMIT], Message=text
    )
    return str(answer["MessageId"])
