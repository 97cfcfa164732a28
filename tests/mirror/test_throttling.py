"""A throttled table: retries absorb it; a failure that outlasts them shows in the admin."""

import pytest

from subscribers.consent import change
from subscribers.models import Subscriber
from tests.mirror.conftest import wait_for

PHONE = "+13125550140"
EVIDENCE = {"text": "JOIN"}


def stored(ddb) -> dict | None:
    got = ddb.get_item(TableName="BotSubscribers", Key={"phone": {"S": PHONE}}, ConsistentRead=True)
    return got.get("Item")


def test_mirror_task_rides_out_throttling(celery_worker, sync_on, proxy):
    # More refusals than botocore's own attempts: the task's retries must finish the job.
    proxy.throttle["PutItem"] = 5
    change(PHONE, "opted_in", "sms_keyword", EVIDENCE)
    item = wait_for(lambda: stored(sync_on), timeout=30)
    sub = Subscriber.objects.get()
    assert item["version"] == {"N": str(sub.version)}
    assert proxy.refused["PutItem"] == 5
    wait_for(lambda: Subscriber.objects.get().mirror_synced_version == sub.version)
    assert Subscriber.objects.get().mirror_error == ""


@pytest.mark.urls("tests.mirror.admin_site")
def test_failure_after_last_try_is_shown_and_resync_fixes_it(
    celery_worker, sync_on, proxy, settings, admin_client
):
    settings.DYNAMODB_MIRROR_RETRIES = 1
    proxy.throttle["PutItem"] = 1000
    change(PHONE, "opted_in", "sms_keyword", EVIDENCE)
    throttled = Subscriber.objects.filter(mirror_error__contains="Throttling")
    failed = wait_for(lambda: throttled.first())
    assert failed.mirror_synced_version == 0 and stored(sync_on) is None
    assert "+13125550140" not in failed.mirror_error

    url = "/admin/subscribers/subscriber/"
    page = admin_client.get(url).content.decode()
    assert "failed (v" in page and "ThrottlingException" in page
    detail = admin_client.get(f"{url}{failed.pk}/change/").content.decode()
    assert "never synced" in detail

    proxy.throttle.clear()
    response = admin_client.post(
        url, {"action": "resync_to_dynamodb", "_selected_action": [failed.pk]}, follow=True
    )
    assert "1 queued for DynamoDB." in response.content.decode()
    wait_for(lambda: stored(sync_on))
    wait_for(lambda: Subscriber.objects.get().mirror_error == "")
    assert "in sync (v" in admin_client.get(url).content.decode()


@pytest.mark.urls("tests.mirror.admin_site")
@pytest.mark.django_db
def test_resync_refuses_while_sync_is_off(tables, settings, admin_client):
    settings.DYNAMODB_SYNC_ENABLED = False
    sub = change(PHONE, "opted_in", "sms_keyword", EVIDENCE).subscriber
    response = admin_client.post(
        "/admin/subscribers/subscriber/",
        {"action": "resync_to_dynamodb", "_selected_action": [sub.pk]},
        follow=True,
    )
    assert "DynamoDB sync is off" in response.content.decode()
