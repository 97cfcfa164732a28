"""Retention: the nightly task, run by a real Celery worker, blanks old bodies only."""

import time
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from messaging import retention
from messaging.models import Direction, Message, MessageKind, MessageStatus, ProviderCall
from messaging.tasks import purge_old_bodies
from smsbot.celery import app
from subscribers import consent
from subscribers.models import ConsentEvent

PHONE = "+13125550123"


def message(days_old: int, body: str, **fields) -> Message:
    msg = Message.objects.create(
        direction=Direction.OUTBOUND,
        kind=MessageKind.BROADCAST,
        provider="twilio",
        phone=PHONE,
        body=body,
        status=MessageStatus.DELIVERED,
        provider_message_id=f"SM{days_old:032d}",
        price_estimated=Decimal("0.00830"),
        price_actual=Decimal("0.00790"),
        **fields,
    )
    ProviderCall.objects.create(
        message=msg,
        provider="twilio",
        operation="send",
        request={"method": "POST", "form": {"To": "+1******0123", "Body": body}},
        outcome="sent",
    )
    past = timezone.now() - timedelta(days=days_old)
    Message.objects.filter(pk=msg.pk).update(created_at=past)
    ProviderCall.objects.filter(message=msg).update(created_at=past)
    return msg


def wait_for(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the worker"
        time.sleep(0.1)


def test_nightly_task_blanks_old_bodies_and_keeps_the_evidence(celery_worker, settings):
    settings.MESSAGE_RETENTION_DAYS = 30
    change = consent.change(PHONE, "opted_in", "web_form", {"form": "signup", "text": "YES"})
    old = message(31, "old daily text", content_variables={"1": "Monday"})
    recent = message(29, "recent daily text")

    purge_old_bodies.delay()
    wait_for(lambda: Message.objects.get(pk=old.pk).body == "")

    old.refresh_from_db()
    assert (old.body, old.content_variables) == ("", {})
    assert (old.status, old.price_actual, old.provider_message_id) == (
        MessageStatus.DELIVERED,
        Decimal("0.00790"),
        f"SM{31:032d}",
    )
    old_call = ProviderCall.objects.get(message=old)
    wait_for(lambda: "Body" not in ProviderCall.objects.get(pk=old_call.pk).request["form"])
    assert ProviderCall.objects.get(pk=old_call.pk).request["form"] == {"To": "+1******0123"}
    recent.refresh_from_db()
    assert recent.body == "recent daily text"
    assert ProviderCall.objects.get(message=recent).request["form"]["Body"] == "recent daily text"
    event = ConsentEvent.objects.get(pk=change.event.pk)
    assert event.evidence == {"form": "signup", "text": "YES"}


def test_unset_retention_keeps_every_body(db, settings):
    settings.MESSAGE_RETENTION_DAYS = None
    old = message(3650, "ten years old")

    assert retention.purge_old_bodies() == 0
    old.refresh_from_db()
    assert old.body == "ten years old"


def test_purge_is_idempotent(db, settings):
    settings.MESSAGE_RETENTION_DAYS = 7
    message(8, "a")
    message(9, "b")

    assert retention.purge_old_bodies() == 2
    assert retention.purge_old_bodies() == 0


def test_the_task_is_scheduled_nightly_on_the_bulk_queue():
    entry = app.conf.beat_schedule["purge-old-message-bodies"]
    assert entry["task"] == "messaging.purge_old_bodies" in app.tasks
    assert entry["options"]["queue"] == "bulk"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {30})
