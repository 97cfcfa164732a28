"""Queue a DynamoDB mirror task for every saved or deleted subscriber and conversation.

The receivers run inside the saving transaction, so the task is recorded in
the outbox with the change and published only once it commits. They go on
the replies queue, not behind a broadcast's fan-out on bulk: an opt-out must
reach the table's readers quickly.
"""

from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from smsbot.outbox import enqueue
from subscribers import task_names
from subscribers.models import Conversation, Subscriber


def _enabled(raw: bool) -> bool:
    # raw: fixtures being loaded, not a change made by the portal.
    return settings.DYNAMODB_SYNC_ENABLED and not raw


def subscriber_saved(sender: type, instance: Subscriber, raw: bool = False, **kw: Any) -> None:
    # An erased subscriber's item is removed by the erasure itself, by number.
    if _enabled(raw) and instance.erased_at is None:
        enqueue(task_names.MIRROR_SUBSCRIBER, instance.pk)


def subscriber_deleted(sender: type, instance: Subscriber, **kw: Any) -> None:
    if _enabled(False):
        enqueue(task_names.MIRROR_DELETE_SUBSCRIBER, instance.phone)


def conversation_saved(sender: type, instance: Conversation, raw: bool = False, **kw: Any) -> None:
    if _enabled(raw):
        enqueue(task_names.MIRROR_CONVERSATION, instance.pk)


def conversation_deleted(sender: type, instance: Conversation, **kw: Any) -> None:
    if _enabled(False):
        enqueue(task_names.MIRROR_DELETE_CONVERSATION, instance.phone_number)


def connect() -> None:
    post_save.connect(subscriber_saved, sender=Subscriber, dispatch_uid="mirror-subscriber")
    post_delete.connect(subscriber_deleted, sender=Subscriber, dispatch_uid="unmirror-subscriber")
    post_save.connect(conversation_saved, sender=Conversation, dispatch_uid="mirror-conversation")
    post_delete.connect(
        conversation_deleted, sender=Conversation, dispatch_uid="unmirror-conversation"
    )
