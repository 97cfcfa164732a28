import json
import logging
import uuid
from decimal import Decimal

import pytest

from messaging.models import DeliveryEvent, Message
from smsbot.models import OutboxTask
from subscribers.consent import change
from subscribers.models import Conversation, Subscriber
from tests.messaging.webhooks.conftest import (
    INBOUND_TOPIC_ARN,
    STATUS_TOPIC_ARN,
    post_sns,
    sns_timestamp,
)

PHONE = "+13125550123"
pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch) -> list[tuple[str, list, str]]:
    """What the outbox hands to the broker after commit."""
    from smsbot.celery import app

    calls: list[tuple[str, list, str]] = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args, kwargs, queue, retry: calls.append((name, args, queue))
    )
    return calls


def test_an_inbound_keyword_is_acted_on_and_the_reply_goes_out_through_sns(
    client, sns_signer, settings, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_sns(client, sns_signer.inbound_sms("stop"))
    assert response.status_code == 200
    assert Subscriber.objects.get(phone=PHONE).consent_status == "opted_out"
    event = Subscriber.objects.get().consent_events.get()
    assert event.source == "sms_keyword" and event.evidence["provider"] == "sns"
    inbound = Message.objects.get(direction="inbound")
    assert (inbound.provider, inbound.kind) == ("sns", "inbound")
    reply = inbound.replies.get()
    assert (reply.provider, reply.kind, reply.status) == ("sns", "compliance", "queued")
    assert reply.body == settings.KEYWORD_REPLY_STOP
    assert reply.segments == 1 and reply.price_estimated == Decimal("0.00645")
    assert published == [("messaging.send_message", [reply.id], "replies")]
    assert not OutboxTask.objects.exists()


def test_an_inbound_conversation_message_gets_a_queued_bot_reply(
    client, sns_signer, settings, published, django_capture_on_commit_callbacks
):
    change(PHONE, "opted_in", "web_form", {"form": "test"})
    with django_capture_on_commit_callbacks(execute=True):
        post_sns(client, sns_signer.inbound_sms("hello there 👋"))
    conversation = Conversation.objects.get(phone_number=PHONE)
    assert conversation.last_message == "hello there 👋"
    reply = Message.objects.get(kind="reply")
    assert reply.body == settings.BOT_MENU_TEXT and reply.status == "queued"
    assert published == [("messaging.send_message", [reply.id], "replies")]


def test_a_redelivered_notification_changes_nothing(
    client, sns_signer, published, django_capture_on_commit_callbacks
):
    envelope = sns_signer.inbound_sms("START")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_sns(client, envelope).status_code == 200
        assert post_sns(client, envelope).status_code == 200
    assert Message.objects.count() == 2  # the inbound and its one reply
    assert len(published) == 1
    assert Subscriber.objects.get().consent_events.count() == 1


def test_signature_version_1_is_accepted(client, sns_signer):
    envelope = sns_signer.inbound_sms("HELP")
    envelope = sns_signer.sign({k: v for k, v in envelope.items() if "Sign" not in k}, "1")
    assert envelope["SignatureVersion"] == "1"
    assert post_sns(client, envelope).status_code == 200


def test_the_certificate_is_downloaded_once(client, sns_signer, cert_server):
    downloads = cert_server[1]
    before = downloads["count"]
    post_sns(client, sns_signer.inbound_sms("HELP"))
    post_sns(client, sns_signer.inbound_sms("INFO"))
    assert downloads["count"] == before + 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: e.update(Message=e["Message"].replace("HELP", "STOP")),
        lambda e: e.update(Signature="AAAA" + e["Signature"][4:]),
        lambda e: e.update(Signature="not base64!"),
        lambda e: e.update(SignatureVersion="3"),
        lambda e: e.update(SigningCertURL=e["SigningCertURL"].replace("https:", "http:")),
        lambda e: e.update(SigningCertURL="https://evil.example.com/cert.pem"),
        lambda e: e.update(SigningCertURL="https://sns.us-east-1.amazonaws.com.evil.com/c.pem"),
        lambda e: e.update(SigningCertURL=e["SigningCertURL"].removesuffix(".pem")),
        lambda e: e.update(TopicArn="arn:aws:sns:us-east-1:123456789012:someone-elses-topic"),
        lambda e: e.pop("Signature"),
        lambda e: e.pop("MessageId"),
    ],
)
def test_forged_or_foreign_messages_are_refused(client, sns_signer, tamper, caplog):
    caplog.set_level(logging.WARNING)
    envelope = sns_signer.inbound_sms("HELP")
    tamper(envelope)
    assert post_sns(client, envelope).status_code == 403
    assert not Message.objects.exists()
    assert "rejected an SNS message" in caplog.text


def test_a_prefixed_deployment_accepts_only_its_prefixed_topics(client, sns_signer, settings):
    settings.AWS_RESOURCE_PREFIX = "prod-"
    envelope = sns_signer.inbound_sms("HELP")
    assert post_sns(client, envelope).status_code == 403
    prefixed = sns_signer.notification(
        INBOUND_TOPIC_ARN.replace("bot-sms-inbound", "prod-bot-sms-inbound"),
        json.loads(envelope["Message"]),
    )
    assert post_sns(client, prefixed).status_code == 200


def test_verification_can_be_switched_off_but_the_topic_is_still_checked(
    client, sns_signer, settings
):
    settings.SNS_VERIFY_SIGNATURES = False
    envelope = sns_signer.inbound_sms("HELP")
    envelope["Signature"] = "garbage"
    assert post_sns(client, envelope).status_code == 200
    envelope["TopicArn"] = "arn:aws:sns:us-east-1:123456789012:other"
    assert post_sns(client, envelope).status_code == 403


def test_subscription_confirmation_is_queued_not_called_inline(
    client, sns_signer, published, django_capture_on_commit_callbacks
):
    # A token of its own: a confirmation is queued once per topic and token, and the
    # cache that remembers it may outlive the test (Redis).
    token = f"token-{uuid.uuid4().hex}"
    envelope = sns_signer.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "a1b2c3",
            "Token": token,
            "TopicArn": INBOUND_TOPIC_ARN,
            "Message": "You have chosen to subscribe to the topic ...",
            "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
            "Timestamp": sns_timestamp(),
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_sns(client, envelope).status_code == 200
    assert published == [
        ("messaging.confirm_sns_subscription", [INBOUND_TOPIC_ARN, token], "replies")
    ]


def test_a_forged_subscription_confirmation_is_refused(client, sns_signer, published):
    envelope = sns_signer.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "a1b2c3",
            "Token": "token-123",
            "TopicArn": INBOUND_TOPIC_ARN,
            "Message": "subscribe",
            "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
            "Timestamp": sns_timestamp(),
        }
    )
    envelope["SubscribeURL"] = "https://attacker.example.com/"
    assert post_sns(client, envelope).status_code == 403
    assert not OutboxTask.objects.exists()


def test_the_confirmation_task_confirms_at_aws(aws):
    from messaging.tasks import confirm_sns_subscription
    from smsbot.aws import client

    arn = client("sns").create_topic(Name="bot-sms-inbound")["TopicArn"]
    result = confirm_sns_subscription.apply(args=(arn, "token-123"))
    assert result.successful() and result.result.startswith(arn)
    # Ours by name and account, but gone: AWS refuses, and the task retries.
    client("sns").delete_topic(TopicArn=arn)
    refused = confirm_sns_subscription.apply(args=(arn, "token-123"), throw=False)
    assert refused.failed() or refused.state == "RETRY"
    # Not ours: nothing is asked of AWS, and there is nothing to retry.
    foreign = confirm_sns_subscription.apply(args=(arn + "-gone", "token-123"))
    assert foreign.successful() and foreign.result == ""


def test_the_retired_delivery_status_topic_is_refused(client, sns_signer):
    """SNS never posts SMS delivery statuses to a topic; they come from CloudWatch Logs."""
    subscriber = change(PHONE, "opted_in", "web_form", {"form": "test"}).subscriber
    message = Message.objects.create(
        direction="outbound", kind="broadcast", provider="sns", phone=PHONE,
        subscriber=subscriber, body="Daily", status="sent", provider_message_id="5f6a7b8c-0001",
    )  # fmt: skip
    status = {"notification": {"messageId": message.provider_message_id}, "status": "SUCCESS"}
    envelope = sns_signer.notification(STATUS_TOPIC_ARN, status)
    assert post_sns(client, envelope).status_code == 403
    message.refresh_from_db()
    assert message.status == "sent" and not DeliveryEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_broker_down_inbound_is_answered_and_the_reply_waits_in_the_outbox(
    client, sns_signer, broker_down
):
    from datetime import timedelta

    from django.utils import timezone

    from smsbot import outbox

    assert post_sns(client, sns_signer.inbound_sms("HELP")).status_code == 200
    reply = Message.objects.get(kind="compliance")
    assert reply.status == "queued" and reply.in_reply_to.body == "HELP"
    kept = OutboxTask.objects.get()
    assert (kept.task_name, kept.args, kept.queue) == (
        "messaging.send_message",
        [reply.id],
        "replies",
    )
    assert kept.attempts == 1 and kept.last_error
    # The periodic drain keeps it while the broker stays down (and publishes it later).
    OutboxTask.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    assert outbox.drain() == 0
    assert OutboxTask.objects.get().pk == kept.pk
