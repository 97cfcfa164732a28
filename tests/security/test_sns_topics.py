"""SNS accepts only the portal's own topics, by full ARN: moto signs and posts for real.

An attacker creates a topic named like ours in their own account (or our name in
another region), subscribes our URL and publishes "STOP" there. moto delivers it
with a genuine SignatureVersion 2 signature; the portal must refuse it.
"""

import json
import logging
import uuid

import boto3
import pytest

from messaging.models import Message
from messaging.providers.sns import verification as sns_verify
from smsbot.aws import client as aws_client
from smsbot.models import OutboxTask
from subscribers.consent import change
from subscribers.models import Subscriber
from tests.messaging.webhooks.conftest import post_sns, sns_timestamp

PHONE = "+13125550123"
ATTACKER_ACCOUNT = "999999999999"
pytestmark = pytest.mark.django_db(transaction=True)


def sns_in(endpoint: str, region: str, account: str | None = None):
    """An SNS client for region; account (moto's x-moto-account-id) picks another account."""
    sns = boto3.client("sns", region_name=region, endpoint_url=endpoint)
    if account:
        sns.meta.events.register(
            "before-sign.sns.*",
            lambda request, **kwargs: request.headers.add_header("x-moto-account-id", account),
        )
    return sns


def inbound(body: str) -> str:
    return json.dumps(
        {
            "originationNumber": PHONE,
            "destinationNumber": "+13125550100",
            "messageBody": body,
            "inboundMessageId": str(uuid.uuid4()),
        }
    )


@pytest.fixture
def portal(live_server, aws, settings):
    """The live portal; its account is learnt from moto's STS (AWS_ACCOUNT_ID unset)."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.SNS_VERIFY_SIGNATURES = True
    settings.AWS_ACCOUNT_ID = ""
    sns_verify.certificates.clear()
    sns_verify.accounts.clear()
    change(PHONE, "opted_in", "web_form", {"form": "test"})
    return f"{live_server.url}/webhooks/sns/"


def rejected(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "rejected an SNS message" in r.getMessage()]


def answers(caplog) -> list[int]:
    """The statuses the portal answered moto with, as Django logs every 4xx and 5xx."""
    return [r.status_code for r in caplog.records if r.name == "django.request"]


@pytest.mark.parametrize(
    ("region", "account"),
    [("us-east-1", ATTACKER_ACCOUNT), ("eu-west-1", None), ("eu-west-1", ATTACKER_ACCOUNT)],
    ids=["other-account", "other-region", "other-account-and-region"],
)
def test_a_topic_with_our_name_elsewhere_cannot_stop_a_subscriber(
    portal, aws, region, account, caplog, probe
):
    caplog.set_level(logging.WARNING)
    sns = sns_in(aws, region, account)
    arn = sns.create_topic(Name="bot-sms-inbound")["TopicArn"]
    assert arn != "arn:aws:sns:us-east-1:123456789012:bot-sms-inbound"
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=portal)
    for _ in range(3):
        sns.publish(TopicArn=arn, Message=inbound("STOP"))
    messages = rejected(caplog)
    assert len(messages) == 3 and all("not one the portal provisioned" in m for m in messages)
    assert answers(caplog) == [403, 403, 403]
    for status in answers(caplog):
        probe.record(status)
    assert Subscriber.objects.get(phone=PHONE).consent_status == "opted_in"
    assert not Message.objects.exists()


def test_our_own_topic_is_still_accepted(portal, aws, caplog):
    sns = aws_client("sns")
    arn = sns.create_topic(Name="bot-sms-inbound")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=portal)
    sns.publish(TopicArn=arn, Message=inbound("STOP"))
    assert not rejected(caplog)
    assert Subscriber.objects.get(phone=PHONE).consent_status == "opted_out"


def test_a_wrong_account_setting_refuses_even_our_topics(portal, aws, settings, caplog):
    settings.AWS_ACCOUNT_ID = ATTACKER_ACCOUNT
    sns = aws_client("sns")
    arn = sns.create_topic(Name="bot-sms-inbound")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=portal)
    sns.publish(TopicArn=arn, Message=inbound("STOP"))
    assert len(rejected(caplog)) == 1
    assert Subscriber.objects.get(phone=PHONE).consent_status == "opted_in"


@pytest.mark.parametrize(
    "topic_arn",
    [
        f"arn:aws:sns:eu-west-1:{ATTACKER_ACCOUNT}:bot-sms-inbound",
        f"arn:aws:sns:us-east-1:{ATTACKER_ACCOUNT}:sms-delivery-status",
        "arn:aws:sns:eu-west-1:123456789012:sms-delivery-status",
        "arn:aws-cn:sns:us-east-1:123456789012:sms-delivery-status",
        "arn:aws:sns:us-east-1:123456789012:sms-delivery-status:extra",
        "sms-delivery-status",
    ],
)
def test_a_subscription_confirmation_for_a_foreign_topic_is_not_queued(
    client, sns_signer, topic_arn, probe
):
    envelope = sns_signer.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": str(uuid.uuid4()),
            "Token": "token-123",
            "TopicArn": topic_arn,
            "Message": "You have chosen to subscribe to the topic ...",
            "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription",
            "Timestamp": sns_timestamp(),
        }
    )
    assert probe.attack(post_sns(client, envelope)).status_code == 403
    assert not OutboxTask.objects.exists()
