"""SIGKILL a worker process in the middle of a local-time wave; the next one finishes it.

The wave is due this very minute in Chicago (the schedule's time set to it), so the
worker processes run on the real clock. Every subscriber ends with exactly one
message and no message reaches the provider twice.
"""

import json
import signal
import time
from collections import Counter

from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from messaging.broadcasts import waves
from messaging.broadcasts.schedule import PERIODIC_TASK_NAME
from messaging.models import Broadcast, DailyContent, Message, MessageStatus, Wave
from messaging.outbound import bulk_send, recovery
from subscribers import localtime
from tests.conftest import purge_queues
from tests.messaging.pipeline.conftest import opted_in, wait_for
from tests.messaging.pipeline.test_worker_crash import sent_ids, start_worker


def test_killing_a_worker_mid_wave_sends_nothing_twice(
    transactional_db, recording, settings, tmp_path, artifacts_dir
):
    settings.SEND_REQUEUE_AFTER_SECONDS = 3
    settings.SEND_STUCK_AFTER_SECONDS = 3
    now = timezone.now().astimezone(localtime.zone("America/Chicago"))
    task = PeriodicTask.objects.get(name=PERIODIC_TASK_NAME)
    task.crontab.hour, task.crontab.minute = str(now.hour), str(now.minute)
    task.crontab.save()
    task.kwargs = json.dumps({"mode": "local_time"})
    task.save()
    subscribers = opted_in(100)  # Chicago numbers
    DailyContent.objects.create(date=now.date(), text="Crash day, local time")
    log = tmp_path / "sent.log"
    purge_queues()

    first = start_worker(log, artifacts_dir / "worker1.log")
    try:
        assert waves.check().waves == 1  # beat's minute check: the wave is due now
        wait_for(lambda: len(sent_ids(log)) >= 20, timeout=60, what="sends to begin")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert len(sent_ids(log)) < 100, "the worker finished before it could be killed"

        second = start_worker(log, artifacts_dir / "worker2.log")
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                recovery.sweep()  # beat runs both every minute
                waves.check()
                done = (
                    Wave.objects.get().fanout_done
                    and not Message.objects.filter(
                        status__in=[MessageStatus.QUEUED, MessageStatus.SENDING]
                    ).exists()
                )
                if done and Message.objects.count() == 100:
                    break
                time.sleep(1)
        finally:
            second.terminate()
            second.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
        purge_queues()

    broadcast = Broadcast.objects.get()
    assert broadcast.mode == "local_time" and Wave.objects.get().fanout_done
    per_subscriber = Counter(
        Message.objects.filter(broadcast=broadcast).values_list("subscriber_id", flat=True)
    )
    assert set(per_subscriber) == {s.pk for s in subscribers}
    assert set(per_subscriber.values()) == {1}
    sends = sent_ids(log)
    assert len(sends) == len(set(sends)), "a message reached the provider twice"
    statuses = Counter(Message.objects.values_list("status", flat=True))
    assert set(statuses) <= {MessageStatus.SENT, MessageStatus.NEEDS_REVIEW}
    assert statuses[MessageStatus.NEEDS_REVIEW] <= 8 + 4 * (bulk_send.RECORD_EVERY - 1)
    assert set(Message.objects.filter(status="sent").values_list("id", flat=True)) <= set(sends)
