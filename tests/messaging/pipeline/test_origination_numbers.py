"""Which number the messages leave from (issue 21), through the real doors: a text is
published by AWS's two-way (the End User Messaging SMS fake) to the inbound topic in
moto, which posts it signed to the live portal's /webhooks/sns/; a real Celery worker
sends the answer by SNS Publish (moto, behind tests/fakes/sns_sandbox.py, which keeps
each Publish's message attributes) or by SendTextMessage (the fake)."""

import json
from collections.abc import Callable
from datetime import date

import pytest
from django.core.management import call_command

from messaging.models import Broadcast, BroadcastState, DailyContent, Message, MessageStatus
from messaging.outbound import ratelimit
from messaging.providers.sns import verification as sns_verify
from smsbot.aws import client as aws_client
from smsbot.provisioning import eum
from smsbot.provisioning.core import Action, Context, Plan
from tests.messaging.pipeline.conftest import not_granted, opted_in, wait_for

ACCOUNT = "123456789012"
FIRST = "+13125550100"  # toll-free: 3 MPS
SECOND = "+13125550101"  # 10DLC: 15 MPS
NOT_NAMED = "+13125550102"  # the account's, not in SMS_ORIGINATION_NUMBERS
DAY = date(2026, 11, 23)
ORIGINATION = "AWS.MM.SMS.OriginationNumber"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def texting(live_server, sns_sandbox, aws_sms, settings) -> Callable[[str, str, str], None]:
    """The account's three numbers, two-way on towards the inbound topic, which the live
    portal is subscribed to; text(sender, number, body) is a person texting a number."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.SNS_VERIFY_SIGNATURES = True
    settings.AWS_REGION = "us-east-1"
    settings.AWS_ACCOUNT_ID = ACCOUNT
    settings.SMS_ORIGINATION_NUMBERS = [FIRST, SECOND]
    settings.SMS_SEND_RATE = 1000
    settings.QUIET_HOURS = ""
    sns_sandbox.in_sandbox = False
    aws_sms.tier = "PRODUCTION"
    sns_verify.certificates.clear()
    sns = aws_client("sns")
    topic = sns.create_topic(Name="bot-sms-inbound")["TopicArn"]
    # What provision_aws gives the topic: sms-voice.amazonaws.com may publish for this account.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sms-voice.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic,
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ],
    }
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy)
    )
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"{live_server.url}/webhooks/sns/")
    aws_sms.add_phone_number(FIRST, "TOLL_FREE", two_way_channel=topic)
    aws_sms.add_phone_number(SECOND, "TEN_DLC", mps=15, two_way_channel=topic)
    aws_sms.add_phone_number(NOT_NAMED, "TEN_DLC", mps=15, two_way_channel=topic)

    def text(sender: str, number: str, body: str) -> None:
        aws_sms.receive(sender, number, body, sns)

    return text


def answer_to(phone: str) -> Message:
    wait_for(
        lambda: Message.objects.filter(phone=phone, direction="outbound", status="sent").exists(),
        what=f"the answer to {phone}",
    )
    return Message.objects.get(phone=phone, direction="outbound")


def test_over_sns_a_reply_leaves_from_the_number_texted_and_a_broadcast_from_the_first(
    texting, sns_sandbox, aws_calls, celery_worker, settings
):
    settings.SMS_PROVIDER = "sns"
    [subscriber] = opted_in(1, start=130)

    texting("+13125550120", SECOND, "HELP")  # the keyword answer
    texting(subscriber.phone, SECOND, "hello there")  # the bot's answer
    texting("+13125550121", NOT_NAMED, "HELP")  # to a number not named: the usual one
    sent = {}
    for phone in ("+13125550120", subscriber.phone, "+13125550121"):
        reply = answer_to(phone)
        sent[phone] = next(p for p in sns_sandbox.published if p["PhoneNumber"] == phone)
        assert sent[phone]["Message"] == reply.body
    inbound = Message.objects.get(phone="+13125550120", direction="inbound")
    assert inbound.our_number == SECOND
    assert answer_to("+13125550120").our_number == SECOND
    assert sent["+13125550120"]["MessageAttributes"][ORIGINATION] == SECOND
    assert sent[subscriber.phone]["MessageAttributes"][ORIGINATION] == SECOND
    assert Message.objects.get(phone=subscriber.phone, direction="outbound").kind == "reply"
    assert sent["+13125550121"]["MessageAttributes"][ORIGINATION] == FIRST

    # The daily broadcast: from the first of SMS_ORIGINATION_NUMBERS.
    DailyContent.objects.create(date=DAY, text="Today's word")
    call_command("send_daily", "--date", DAY.isoformat())
    wait_for(lambda: Broadcast.objects.get().state == BroadcastState.DONE, what="the broadcast")
    [daily] = [p for p in sns_sandbox.published if p["Message"] == "Today's word"]
    assert daily["PhoneNumber"] == subscriber.phone
    assert daily["MessageAttributes"][ORIGINATION] == FIRST
    # All of it works under the portal's least-privilege role.
    assert "sns:Publish" in aws_calls and "sms-voice:DescribePhoneNumbers" in aws_calls
    assert not_granted(aws_calls) == set()


def test_the_sns_send_rate_is_capped_by_its_origination_numbers_mps(texting, settings):
    settings.SMS_PROVIDER = "sns"
    settings.SMS_SEND_RATE = 20
    assert ratelimit.send_rate("sns") == 3.0  # FIRST, toll-free: 3 MPS
    settings.SMS_SEND_RATE = 2
    assert ratelimit.send_rate("sns") == 2.0
    settings.SMS_SEND_RATE = 20
    settings.SMS_ORIGINATION_NUMBERS = [SECOND]
    assert ratelimit.send_rate("sns") == 15.0
    # None named: AWS picks the number, and SMS_SEND_RATE alone holds.
    settings.SMS_ORIGINATION_NUMBERS = []
    assert ratelimit.send_rate("sns") == 20.0


@pytest.fixture
def configuration_set(aws_sms) -> None:  # type: ignore[no-untyped-def]
    """What provision_aws leaves for SMS_PROVIDER=aws-sms: the configuration set."""
    eum.ConfigurationSet().apply(Context(ACCOUNT, "us-east-1"), Plan(Action.CREATE))


def test_over_aws_sms_a_reply_leaves_from_the_number_texted(
    texting, configuration_set, aws_sms, aws_calls, celery_worker, settings
):
    settings.SMS_PROVIDER = "aws-sms"

    texting("+13125550120", SECOND, "HELP")
    reply = answer_to("+13125550120")
    assert reply.provider == "aws-sms" and reply.our_number == SECOND
    texting("+13125550121", NOT_NAMED, "HELP")
    answer_to("+13125550121")
    by_phone = {m["DestinationPhoneNumber"]: m for m in aws_sms.sent}
    assert by_phone["+13125550120"]["OriginationPhoneNumber"] == SECOND
    assert by_phone["+13125550120"]["MessageBody"] == reply.body
    assert by_phone["+13125550121"]["OriginationPhoneNumber"] == FIRST

    # With no number named, every number of the account is ours.
    settings.SMS_ORIGINATION_NUMBERS = []
    texting("+13125550122", NOT_NAMED, "HELP")
    answer_to("+13125550122")
    by_phone = {m["DestinationPhoneNumber"]: m for m in aws_sms.sent}
    assert by_phone["+13125550122"]["OriginationPhoneNumber"] == NOT_NAMED
    assert Message.objects.filter(status=MessageStatus.SENT, provider="aws-sms").count() == 3
    assert not_granted(aws_calls) == set()
