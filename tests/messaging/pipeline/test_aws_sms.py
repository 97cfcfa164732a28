"""SMS_PROVIDER=aws-sms end to end: a broadcast goes out through SendTextMessage (the fake
End User Messaging SMS server) from a real Celery worker, and each message is settled
by its delivery event, published by the configuration set's SNS destination in moto
and posted, signed, to the live portal's /webhooks/sns/."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from messaging.billing import build
from messaging.broadcasts import sandbox
from messaging.models import (
    Broadcast,
    BroadcastState,
    DailyContent,
    DeliveryEvent,
    Message,
    MessageStatus,
)
from messaging.outbound import dispatch, ratelimit
from messaging.providers.sns import verification as sns_verify
from smsbot.aws import client as aws_client
from smsbot.provisioning import eum
from smsbot.provisioning.core import Action, Context, Plan
from tests.messaging.pipeline.conftest import not_granted, opted_in, wait_for

DAY = date(2026, 11, 23)
ORIGIN = "+13125550100"
ACCOUNT = "123456789012"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def aws_sms_portal(live_server, aws, aws_sms, settings):
    """The live portal subscribed to its events topic; the configuration set provisioned."""
    settings.SMS_PROVIDER = "aws-sms"
    settings.PUBLIC_BASE_URL = live_server.url
    settings.SNS_VERIFY_SIGNATURES = True
    settings.AWS_REGION = "us-east-1"
    settings.AWS_ACCOUNT_ID = ACCOUNT
    settings.SMS_ORIGINATION_NUMBERS = [ORIGIN]
    settings.SMS_SEND_RATE = 1000
    settings.QUIET_HOURS = ""
    sns_verify.certificates.clear()
    sns = aws_client("sns")
    topic = sns.create_topic(Name="bot-sms-events")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"{live_server.url}/webhooks/sns/")
    aws_sms.add_phone_number(ORIGIN, "TOLL_FREE")
    ctx = Context(ACCOUNT, "us-east-1")
    eum.ConfigurationSet().apply(ctx, Plan(Action.CREATE))
    return sns


def send_daily() -> Broadcast:
    DailyContent.objects.create(date=DAY, text="Today's word")
    call_command("send_daily", "--date", DAY.isoformat())
    return Broadcast.objects.get()


def test_a_broadcast_goes_out_by_send_text_message_and_events_settle_it(
    aws_sms_portal, aws_calls, aws_sms, celery_worker, settings
):
    aws_sms.tier = "PRODUCTION"
    subscribers = opted_in(3)
    broadcast = send_daily()
    wait_for(lambda: len(aws_sms.sent) == 3, what="three SendTextMessage calls")
    wait_for(
        lambda: Message.objects.filter(broadcast=broadcast, status=MessageStatus.SENT).count() == 3,
        what="three sent messages",
    )
    sent = {m["DestinationPhoneNumber"]: m for m in aws_sms.sent}
    assert set(sent) == {s.phone for s in subscribers}
    for message in Message.objects.filter(broadcast=broadcast):
        call = sent[message.phone]
        assert call["MessageId"] == message.provider_message_id
        assert call["Context"] == {"message_id": str(message.pk)}
        assert call["TimeToLive"] == settings.AWS_SMS_BROADCAST_TTL_SECONDS
        assert call["OriginationPhoneNumber"] == ORIGIN
        assert call["ConfigurationSetName"] == "smsbot"
        assert call["MessageType"] == "TRANSACTIONAL"

    # The delivery events: published by moto to the live portal, signed, verified, applied.
    assert aws_sms.publish_events(aws_sms_portal, "TEXT_DELIVERED") == 3
    for message in Message.objects.filter(broadcast=broadcast):
        assert message.status == MessageStatus.DELIVERED
        assert message.price_actual == Decimal("0.00581")
        assert message.price_unit == "USD" and message.segments == 1
        events = DeliveryEvent.objects.filter(message=message)
        assert list(events.values_list("provider", "status")) == [("aws-sms", "delivered")]
    # All of it works under the portal's least-privilege role.
    assert "sms-voice:SendTextMessage" in aws_calls
    assert not_granted(aws_calls) == set()


def test_a_failure_event_settles_undelivered_with_its_reason(
    aws_sms_portal, aws_sms, celery_worker
):
    aws_sms.tier = "PRODUCTION"
    opted_in(1)
    send_daily()
    wait_for(
        lambda: Message.objects.filter(status=MessageStatus.SENT).count() == 1, what="the send"
    )
    aws_sms.publish_events(aws_sms_portal, "TEXT_TTL_EXPIRED")
    message = Message.objects.get(kind="broadcast")
    assert message.status == MessageStatus.UNDELIVERED
    assert message.error_code == "eum:TtlExpired"


def test_verified_only_in_the_sandbox_sends_to_verified_numbers_and_says_why_not(
    aws_sms_portal, aws_calls, aws_sms, celery_worker, settings
):
    settings.SMS_SANDBOX_SEND = "verified-only"
    subscribers = opted_in(3)
    aws_sms.verify_destination(subscribers[0].phone)
    broadcast = send_daily()
    wait_for(lambda: len(aws_sms.sent) == 1, what="the one verified send")
    wait_for(lambda: Message.objects.filter(status=MessageStatus.SENT).count() == 1, what="sent")
    skipped = Message.objects.filter(broadcast=broadcast, status=MessageStatus.SKIPPED)
    assert {m.phone for m in skipped} == {s.phone for s in subscribers[1:]}
    assert {m.error_message for m in skipped} == {sandbox.NOT_VERIFIED}
    assert [m["DestinationPhoneNumber"] for m in aws_sms.sent] == [subscribers[0].phone]
    assert "sms-voice:DescribeVerifiedDestinationNumbers" in aws_calls
    assert not_granted(aws_calls) == set()


def test_refuse_in_the_sandbox_does_not_start_and_says_why(aws_sms_portal, aws_sms, settings):
    settings.SMS_SANDBOX_SEND = "refuse"
    opted_in(2)
    broadcast = send_daily()
    assert broadcast.state == BroadcastState.PAUSED
    assert broadcast.pause_reason.startswith("sandbox:")
    assert not Message.objects.exists() and not aws_sms.sent


def test_send_daily_dry_run_counts_the_recipients_the_sandbox_would_refuse(
    aws_sms_portal, aws_sms, capsys
):
    subscribers = opted_in(3)
    aws_sms.verify_destination(subscribers[0].phone)
    DailyContent.objects.create(date=DAY, text="Today's word")
    call_command("send_daily", "--date", DAY.isoformat(), "--dry-run")
    assert "skipped: sandbox: destination not verified 2" in capsys.readouterr().out


def test_the_send_rate_is_capped_by_the_numbers_mps(aws_sms_portal, aws_sms, settings):
    settings.SMS_SEND_RATE = 20
    assert ratelimit.send_rate("aws-sms") == 3.0  # a toll-free number: 3 MPS
    assert ratelimit.send_rate("sns") == 3.0  # SNS sends from the same number
    assert ratelimit.send_rate("twilio") == 20.0
    settings.SMS_SEND_RATE = 2
    assert ratelimit.send_rate("aws-sms") == 2.0


def test_with_no_number_named_the_rate_is_the_slowest_number_aws_may_pick(
    aws_sms_portal, aws_sms, celery_worker, settings
):
    """An account-level send (no OriginationIdentity): AWS selects one of the account's
    numbers for each message, so the portal paces for the slowest of them."""
    settings.SMS_ORIGINATION_NUMBERS = []
    settings.SMS_SEND_RATE = 20
    aws_sms.tier = "PRODUCTION"
    campaign = aws_sms.add_registration("US_TEN_DLC_CAMPAIGN_REGISTRATION", "COMPLETE")
    aws_sms.add_phone_number("+13125550101", "TEN_DLC", registration_id=campaign, mps=15)
    assert ratelimit.send_rate("aws-sms") == 3.0  # the toll-free number's 3, not 20 nor 18

    opted_in(2)
    broadcast = send_daily()
    wait_for(lambda: len(aws_sms.sent) == 2, what="two SendTextMessage calls")
    assert all("OriginationIdentity" not in call for call in aws_sms.sent)
    assert aws_sms.publish_events(aws_sms_portal, "TEXT_DELIVERED") == 2
    wait_for(
        lambda: (
            Message.objects.filter(broadcast=broadcast, status=MessageStatus.DELIVERED).count() == 2
        ),
        what="two delivered messages",
    )


def test_an_opted_out_refusal_for_an_opted_in_subscriber_is_held_for_review(
    aws_sms_portal, aws_sms, settings
):
    """DESTINATION_PHONE_NUMBER_OPTED_OUT goes through error_codes.EUM_BY_REASON to the
    same review as SNS's: the consent stays, AWS's reason is shown (invariant 11)."""
    aws_sms.tier = "PRODUCTION"
    settings.AWS_OPT_IN_SYNC_GRACE_SECONDS = 0  # not a START whose sync is under way
    [subscriber] = opted_in(1)
    aws_sms.opt_out(subscriber.phone)  # AWS's list says otherwise: a START it never heard of
    message = build.outbound(
        kind="broadcast", channel="sms", provider="aws-sms", phone=subscriber.phone,
        body="Today's word", subscriber=subscriber, status=MessageStatus.QUEUED,
    )  # fmt: skip
    message.save()

    dispatch.send(message.pk)

    message.refresh_from_db()
    subscriber.refresh_from_db()
    assert message.error_code == "eum:OptedOut"
    assert subscriber.consent_status == "opted_in"
    assert "opt-out list" in subscriber.provider_opt_out_reason
    assert not aws_sms.sent
