"""The mirror heals itself: after an outage, or a table made after the rows changed,
the 5-minute reconcile writes what the live mirror missed, with no --repair."""

import io
import threading
from datetime import timedelta

import pytest
from celery.signals import task_postrun
from django.core.management import CommandError, call_command
from django.utils import timezone

from smsbot.aws import client
from smsbot.celery import MIRROR_QUEUE, app
from subscribers import task_names
from subscribers.consent import change
from subscribers.mirror import reconcile
from subscribers.models import Conversation, Subscriber
from tests.mirror.conftest import create_tables, wait_for

EVIDENCE = {"text": "JOIN"}


def phone(n: int) -> str:
    return f"+131255501{n:02d}"


def verify() -> str:
    out = io.StringIO()
    call_command("sync_dynamodb", "--verify", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def run_periodic_reconcile() -> None:
    """Fire the task as beat does and wait until the worker, and every batch it chains,
    has finished."""
    done = threading.Event()
    runs = {"n": 0}

    def finished(sender=None, retval=None, **kwargs):
        if sender is not None and sender.name == task_names.RECONCILE_MIRROR:
            runs["n"] += 1
            if not Subscriber.objects.exclude(mirror_error="").exists() or runs["n"] > 20:
                done.set()

    task_postrun.connect(finished, weak=False)
    try:
        app.send_task(task_names.RECONCILE_MIRROR, queue=MIRROR_QUEUE)
        assert done.wait(60), "the reconcile did not finish"
    finally:
        task_postrun.disconnect(finished)


def test_the_reconcile_runs_every_five_minutes_on_the_mirror_queue():
    app.loader.import_default_modules()
    [entry] = [
        e for e in app.conf.beat_schedule.values() if e["task"] == task_names.RECONCILE_MIRROR
    ]
    assert entry["schedule"] == 300.0 and entry["options"]["queue"] == MIRROR_QUEUE


@pytest.mark.django_db(transaction=True)
def test_a_dynamodb_outage_heals_without_an_operator(celery_worker, sync_on, proxy, settings):
    settings.DYNAMODB_MIRROR_RETRIES = 1
    settings.DYNAMODB_RECONCILE_BATCH = 2  # several chained batches drain the backlog
    proxy.allow["PutItem"] = 0  # DynamoDB is down: every write is refused
    for n in range(5):
        change(phone(n), "opted_in", "sms_keyword", EVIDENCE)
    Conversation.objects.create(phone_number=phone(0), message_count=1)
    wait_for(lambda: Subscriber.objects.exclude(mirror_error="").count() == 5, timeout=60)
    wait_for(lambda: Conversation.objects.exclude(mirror_error="").count() == 1, timeout=60)
    # An hour passes; the reconcile runs and is refused as well: nothing lost, nothing healed.
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Subscriber.objects.update(updated_at=an_hour_ago)
    still_down = reconcile.reconcile()
    assert still_down.written == 0 and "Throttling" in still_down.error
    assert still_down.errors_left == {"subscribers": 5, "conversations": 1}
    with pytest.raises(CommandError):
        verify()

    proxy.allow.pop("PutItem")  # DynamoDB answers again
    run_periodic_reconcile()
    wait_for(lambda: not Conversation.objects.exclude(mirror_error="").exists())
    out = verify()  # clean: exits 0
    assert "BotSubscribers: 5 rows, 5 items: 0 missing, 0 extra, 0 different" in out
    assert "BotConversations: 1 rows, 1 items: 0 missing" in out
    assert all(s.mirror_synced_version == s.version for s in Subscriber.objects.all())
    assert reconcile.reconcile().errors_left == {"subscribers": 0, "conversations": 0}


@pytest.mark.django_db
def test_rows_changed_before_the_table_existed_are_written_once_it_does(aws, settings):
    settings.DYNAMODB_SYNC_ENABLED = True
    settings.DYNAMODB_MAX_ATTEMPTS = 1
    for n in range(3):
        change(phone(n), "opted_in", "import", {"file": "before.csv"})
    later = timezone.now() + timedelta(minutes=2)
    missing = reconcile.reconcile(now=later)
    assert missing.written == 0 and "ResourceNotFoundException" in missing.error
    assert Subscriber.objects.exclude(mirror_error="").count() == 1  # where it stopped

    create_tables(aws)  # provision_aws, later
    healed = reconcile.reconcile(now=later)
    assert (healed.written, healed.error) == (3, "")
    assert not Subscriber.objects.exclude(mirror_error="").exists()
    assert "BotSubscribers: 3 rows, 3 items: 0 missing" in verify()


@pytest.mark.django_db
def test_oldest_changes_go_first_and_a_full_batch_asks_for_more(sync_on):
    for n in range(3):
        change(phone(n), "opted_in", "import", {"file": "t.csv"})
    for n, minutes in enumerate((10, 30, 20)):
        Subscriber.objects.filter(phone=phone(n)).update(
            updated_at=timezone.now() - timedelta(minutes=minutes)
        )
    first = reconcile.reconcile(limit=2)
    assert first.written == 2 and first.more
    mirrored = {s.phone for s in Subscriber.objects.filter(mirror_synced_version__gt=0)}
    assert mirrored == {phone(1), phone(2)}  # 30 and 20 minutes ago
    rest = reconcile.reconcile(limit=2)
    assert rest.written == 1 and not rest.more


@pytest.mark.django_db
def test_a_change_still_in_flight_is_left_to_its_own_task(sync_on):
    change(phone(1), "opted_in", "import", {"file": "t.csv"})
    assert reconcile.reconcile().written == 0  # changed a moment ago: its task is queued


@pytest.mark.django_db
def test_an_item_already_written_is_marked_and_its_error_cleared(sync_on):
    from subscribers.mirror.write import SUBSCRIBERS, sync_row

    sub = change(phone(1), "opted_in", "import", {"file": "t.csv"}).subscriber
    sync_row(SUBSCRIBERS, sub)
    Subscriber.objects.filter(pk=sub.pk).update(mirror_error="earlier ThrottlingException")
    result = reconcile.reconcile()
    assert (result.written, result.already) == (0, 1)
    assert Subscriber.objects.get().mirror_error == ""


@pytest.mark.django_db
def test_each_run_publishes_the_rows_still_failing(sync_on, aws):
    sub = change(phone(1), "opted_in", "import", {"file": "t.csv"}).subscriber
    Subscriber.objects.filter(pk=sub.pk).update(mirror_error="x")
    now = timezone.now()
    reconcile.reconcile(now=now)
    answer = client("cloudwatch").get_metric_statistics(
        Namespace="SMSBot", MetricName="MirrorErrors", StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=5), Period=300, Statistics=["Maximum"],
    )  # fmt: skip
    assert [p["Maximum"] for p in answer["Datapoints"]] == [0.0]  # healed in that run


@pytest.mark.django_db
def test_nothing_runs_while_the_mirror_is_off(settings):
    from subscribers.tasks import reconcile_mirror

    settings.DYNAMODB_SYNC_ENABLED = False
    assert reconcile_mirror.apply().result == {}
