"""Changes made through the portal reach DynamoDB through a real Celery worker."""

import pytest
from django.db import transaction
from django.utils import timezone

from smsbot.models import OutboxTask
from smsbot.outbox import enqueue
from subscribers.consent import change
from subscribers.models import Conversation, Subscriber
from tests.mirror.conftest import wait_for

EVIDENCE = {"text": "JOIN", "message_sid": "SM123"}
PHONE = "+13125550123"


def item(ddb, table: str, key: str, value: str) -> dict | None:
    return ddb.get_item(TableName=table, Key={key: {"S": value}}, ConsistentRead=True).get("Item")


def subscriber_item(ddb, phone: str = PHONE) -> dict | None:
    return item(ddb, "BotSubscribers", "phone", phone)


def test_consent_changes_appear_in_the_subscribers_table(celery_worker, sync_on):
    change(PHONE, "opted_in", "sms_keyword", EVIDENCE)
    first = wait_for(lambda: subscriber_item(sync_on))
    sub = Subscriber.objects.get()
    assert first["consent_status"] == {"S": "opted_in"}
    assert first["source"] == {"S": "sms_keyword"}
    assert first["channel"] == {"S": "sms"}
    assert first["opted_in_at"]["S"].endswith("Z")
    assert first["timestamp_iso"]["S"].startswith(str(timezone.now().year))
    assert "opted_out_at" not in first

    change(PHONE, "opted_out", "sms_keyword", {"text": "STOP"})
    sub.refresh_from_db()
    latest = wait_for(
        lambda: (i := subscriber_item(sync_on)) and i["version"] == {"N": str(sub.version)} and i
    )
    assert latest["consent_status"] == {"S": "opted_out"}
    assert "opted_out_at" in latest
    wait_for(lambda: Subscriber.objects.get().mirror_synced_version == sub.version)
    synced = Subscriber.objects.get()
    assert synced.mirror_error == "" and synced.mirror_synced_at is not None
    # Recording the sync must not count as a change.
    assert synced.version == sub.version


def test_conversation_saves_and_deletes_follow(celery_worker, sync_on):
    conv = Conversation.objects.create(
        phone_number=PHONE, message_count=1, user_context={"lang": "en", "score": 1.5}
    )
    conv.message_count = 2
    conv.conversation_state = "asked_name"
    conv.last_message = "hi"
    conv.last_response = "Hello! What's your name?"
    conv.save()
    got = wait_for(
        lambda: (
            (i := item(sync_on, "BotConversations", "phone_number", PHONE))
            and i["message_count"] == {"N": "2"}
            and i
        )
    )
    assert got["conversation_state"] == {"S": "asked_name"}
    assert got["last_response"] == {"S": "Hello! What's your name?"}
    assert got["user_context"] == {"M": {"lang": {"S": "en"}, "score": {"N": "1.5"}}}
    assert got["created_at"]["S"].endswith("Z") and got["updated_at"]["S"].endswith("Z")

    conv.delete()
    wait_for(lambda: item(sync_on, "BotConversations", "phone_number", PHONE) is None)


def test_erasure_removes_both_items(celery_worker, sync_on):
    change(PHONE, "opted_in", "sms_keyword", EVIDENCE)
    Conversation.objects.create(phone_number=PHONE, message_count=1)
    wait_for(lambda: subscriber_item(sync_on))
    wait_for(lambda: item(sync_on, "BotConversations", "phone_number", PHONE))

    # What the erasure feature does: wipe the row, queue the removal by number.
    with transaction.atomic():
        sub = Subscriber.objects.get()
        sub.phone = f"erased-{sub.pk}"
        sub.erased_at = timezone.now()
        sub.save()
        Conversation.objects.filter(phone_number=PHONE).delete()
        enqueue("subscribers.mirror_delete_subscriber", PHONE)

    wait_for(lambda: subscriber_item(sync_on) is None)
    wait_for(lambda: item(sync_on, "BotConversations", "phone_number", PHONE) is None)
    assert sync_on.scan(TableName="BotSubscribers")["Count"] == 0


@pytest.mark.django_db
def test_tasks_are_queued_with_the_change_and_only_when_enabled(tables, settings):
    settings.DYNAMODB_SYNC_ENABLED = False
    change(PHONE, "opted_in", "sms_keyword", EVIDENCE)
    assert not OutboxTask.objects.filter(task_name__startswith="subscribers.mirror.write").exists()

    settings.DYNAMODB_SYNC_ENABLED = True
    with pytest.raises(RuntimeError), transaction.atomic():
        change("+13125550124", "opted_in", "sms_keyword", EVIDENCE)
        raise RuntimeError("the request fails after the change")
    assert not OutboxTask.objects.filter(task_name__startswith="subscribers.mirror.write").exists()

    change(PHONE, "opted_out", "sms_keyword", {"text": "STOP"})
    queued = OutboxTask.objects.get(task_name="subscribers.mirror_subscriber")
    assert queued.args == [Subscriber.objects.get(phone=PHONE).pk]
    assert queued.queue == "replies"
