"""End to end: moto's SNS posts to a live portal, signing with SignatureVersion 2 and
serving its certificate itself; the portal verifies the chain and acts."""

import json
import uuid

import pytest

from messaging.models import DeliveryEvent, Message
from messaging.providers.sns import verification as sns_verify
from smsbot.aws import client as aws_client
from subscribers.consent import change
from subscribers.models import Subscriber

PHONE = "+13125550123"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(live_server, aws, settings):
    """The live portal, subscribed to its inbound topic in moto (and to the retired
    delivery-status topic, as older deployments are)."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.SNS_VERIFY_SIGNATURES = True
    sns_verify.certificates.clear()
    sns = aws_client("sns")
    topics = {}
    for name in ("bot-sms-inbound", "sms-delivery-status"):
        arn = sns.create_topic(Name=name)["TopicArn"]
        sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=f"{live_server.url}/webhooks/sns/")
        topics[name] = arn
    return sns, topics


def test_moto_inbound_sms_is_verified_and_answered_through_sns(portal, settings, broker_down):
    sns, topics = portal
    inbound_id = str(uuid.uuid4())
    payload = {
        "originationNumber": PHONE,
        "destinationNumber": "+13125550100",
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": "JOIN MITZVAH",
        "inboundMessageId": inbound_id,
        "previousPublishedMessageId": str(uuid.uuid4()),
    }
    sns.publish(TopicArn=topics["bot-sms-inbound"], Message=json.dumps(payload))
    subscriber = Subscriber.objects.get(phone=PHONE)
    assert subscriber.consent_status == "opted_in" and subscriber.consent_source == "sms_keyword"
    inbound = Message.objects.get(provider_message_id=inbound_id)
    reply = inbound.replies.get()
    assert (reply.provider, reply.status, reply.body) == (
        "sns", "queued", settings.KEYWORD_REPLY_START,
    )  # fmt: skip


def test_the_retired_delivery_status_topic_changes_nothing(portal):
    sns, topics = portal
    subscriber = change(PHONE, "opted_in", "web_form", {"form": "test"}).subscriber
    message = Message.objects.create(
        direction="outbound", kind="broadcast", provider="sns", phone=PHONE,
        subscriber=subscriber, body="Daily", status="sent", provider_message_id=str(uuid.uuid4()),
    )  # fmt: skip
    status = {
        "notification": {"messageId": message.provider_message_id},
        "delivery": {"phoneCarrier": "Example Wireless", "priceInUSD": 0.00645},
        "status": "SUCCESS",
    }
    sns.publish(TopicArn=topics["sms-delivery-status"], Message=json.dumps(status))
    message.refresh_from_db()
    assert message.status == "sent" and message.price_actual is None
    assert not DeliveryEvent.objects.exists()


def test_a_topic_the_portal_did_not_provision_is_refused(portal, live_server):
    sns, _ = portal
    stranger = sns.create_topic(Name="someone-elses-topic")["TopicArn"]
    sns.subscribe(TopicArn=stranger, Protocol="http", Endpoint=f"{live_server.url}/webhooks/sns/")
    sns.publish(TopicArn=stranger, Message=json.dumps({"messageBody": "STOP"}))
    assert not Message.objects.exists() and not Subscriber.objects.exists()
