import threading

import pytest
from celery.signals import task_postrun

from smsbot.celery import BULK_QUEUE, MIRROR_QUEUE, REPLIES_QUEUE, app


def test_queues_and_delivery_guarantees_are_configured():
    assert {q.name for q in app.conf.task_queues} == {REPLIES_QUEUE, MIRROR_QUEUE, BULK_QUEUE}
    assert app.conf.task_default_queue == REPLIES_QUEUE
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit
    assert app.conf.beat_scheduler.startswith("django_celery_beat")


def test_a_real_worker_runs_a_task_on_the_configured_broker(celery_worker):
    done = threading.Event()
    seen = {}

    def on_postrun(sender=None, task_id=None, retval=None, state=None, **kwargs):
        if sender is not None and sender.name == "smsbot.ping":
            seen.update(task_id=task_id, retval=retval, state=state)
            done.set()

    task_postrun.connect(on_postrun, weak=False)
    try:
        result = app.send_task("smsbot.ping", args=["hello"], queue=BULK_QUEUE)
        assert done.wait(30), "the worker did not run the task"
    finally:
        task_postrun.disconnect(on_postrun)
    assert seen == {"task_id": result.id, "retval": "hello", "state": "SUCCESS"}


@pytest.mark.django_db(transaction=True)
def test_outbox_keeps_work_while_the_broker_is_down_and_drains_later(broker_down):
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from smsbot import outbox
    from smsbot.models import OutboxTask

    with transaction.atomic():
        outbox.enqueue("smsbot.ping", "kept")
    item = OutboxTask.objects.get()
    assert item.attempts == 1
    assert "ConnectionError" in item.last_error or "Error" in item.last_error

    # Still down: the drain keeps it.
    OutboxTask.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    assert outbox.drain() == 0
    assert OutboxTask.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_outbox_drain_publishes_once_the_broker_is_back(celery_worker):
    from datetime import timedelta

    from django.utils import timezone

    from smsbot import outbox
    from smsbot.models import OutboxTask

    done = threading.Event()

    def on_postrun(sender=None, retval=None, **kwargs):
        if sender is not None and sender.name == "smsbot.ping" and retval == "late":
            done.set()

    OutboxTask.objects.create(
        task_name="smsbot.ping", args=["late"], queue=REPLIES_QUEUE, attempts=1
    )
    OutboxTask.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    task_postrun.connect(on_postrun, weak=False)
    try:
        assert outbox.drain() == 1
        assert done.wait(30)
    finally:
        task_postrun.disconnect(on_postrun)
    assert OutboxTask.objects.count() == 0
