"""A late write never replaces newer data in the table."""

import pytest

from subscribers.consent import change
from subscribers.mirror import write as mirror
from subscribers.models import Subscriber

EVIDENCE = {"text": "JOIN"}
PHONE = "+13125550130"


def stored(ddb) -> dict:
    got = ddb.get_item(TableName="BotSubscribers", Key={"phone": {"S": PHONE}}, ConsistentRead=True)
    return got["Item"]


@pytest.mark.django_db
def test_two_versions_delivered_out_of_order_leave_the_newer(tables):
    old_row = change(PHONE, "opted_in", "sms_keyword", EVIDENCE).subscriber
    change(PHONE, "opted_out", "sms_keyword", {"text": "STOP"})
    new_row = Subscriber.objects.get()
    assert new_row.version > old_row.version

    # The newer task finishes first; the older one, read before the change, lands late.
    assert mirror.sync_row(mirror.SUBSCRIBERS, new_row) is True
    assert mirror.sync_row(mirror.SUBSCRIBERS, old_row) is False
    item = stored(tables)
    assert item["consent_status"] == {"S": "opted_out"}
    assert item["version"] == {"N": str(new_row.version)}

    # Losing the condition is success: no error, the synced version never goes back.
    row = Subscriber.objects.get()
    assert row.mirror_synced_version == new_row.version and row.mirror_error == ""

    # The same version delivered twice (a retried task) is also a no-op.
    assert mirror.sync_row(mirror.SUBSCRIBERS, new_row) is False


@pytest.mark.django_db
def test_in_order_versions_each_replace_the_last(tables):
    for status, evidence in (("opted_in", EVIDENCE), ("opted_out", {"text": "STOP"})):
        change(PHONE, status, "sms_keyword", evidence)
        assert mirror.sync_pk(mirror.SUBSCRIBERS, Subscriber.objects.get().pk) is True
        assert stored(tables)["consent_status"] == {"S": status}
