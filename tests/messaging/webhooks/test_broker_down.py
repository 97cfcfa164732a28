"""The broker down: signed inbound STOPs are stored and answered without waiting for it,
and the follow-up work goes out once it is back."""

import threading
import time
from datetime import timedelta

import pytest
import requests
from celery.signals import task_postrun
from django.utils import timezone

from messaging.models import Message
from smsbot.celery import REPLIES_QUEUE, app
from smsbot.models import OutboxTask
from subscribers.models import Subscriber
from tests.messaging.webhooks.conftest import post_sns

NUMBERS = [f"+131255501{n:02d}" for n in range(1, 11)]
pytestmark = pytest.mark.django_db(transaction=True)


def test_stops_are_answered_at_once_and_the_replies_go_out_once_the_broker_is_back(
    celery_worker, aws, client, sns_signer, broker_down, settings
):
    for number in NUMBERS:
        assert post_sns(client, sns_signer.inbound_sms("STOP", sender=number)).status_code == 200
    assert set(Subscriber.objects.values_list("consent_status", flat=True)) == {"opted_out"}
    replies = Message.objects.filter(kind="compliance")
    assert replies.count() == 10 and set(replies.values_list("status", flat=True)) == {"queued"}
    kept = OutboxTask.objects.order_by("id")
    assert kept.count() == 10
    # Only the first request tried the broker (and failed at once); the others did
    # not wait on it at all: their work waits in the outbox.
    assert list(kept.values_list("attempts", flat=True)) == [1] + [0] * 9

    broker_down()  # the broker answers again
    settings.AWS_ENDPOINT_URL = aws  # the replies go to SNS (moto)
    OutboxTask.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    drained = threading.Event()

    def finished(sender=None, **kwargs):
        if sender is not None and sender.name == "smsbot.drain_outbox":
            drained.set()

    task_postrun.connect(finished, weak=False)
    try:
        app.send_task("smsbot.drain_outbox", queue=REPLIES_QUEUE)  # as beat does
        assert drained.wait(30), "the worker did not drain the outbox"
    finally:
        task_postrun.disconnect(finished)
    deadline = time.monotonic() + 30
    while replies.exclude(status="sent").exists():
        assert time.monotonic() < deadline, list(replies.values_list("status", flat=True))
        time.sleep(0.2)
    assert not OutboxTask.objects.exists()
    sms = requests.get(f"{aws}/moto-api/data.json", timeout=10).json()["sns"]["SMS"]
    assert sorted(s["phone_number"] for s in sms) == NUMBERS
    assert {s["message"] for s in sms} == {settings.KEYWORD_REPLY_STOP}
