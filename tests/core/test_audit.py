"""The operator audit trail's writer: one LogEntry per object, before → after in words."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model

from smsbot import audit
from subscribers.models import Subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return get_user_model().objects.create_user("ops", password="x", is_staff=True)


def test_record_writes_one_entry_per_object_with_before_and_after(operator):
    subs = [Subscriber.objects.create(phone=f"+1312555010{i}") for i in range(2)]
    entries = audit.record(
        operator, subs, "Opted out", changes={"consent": ("opted_in", "opted_out")}, detail="why"
    )
    assert len(entries) == 2
    entry = LogEntry.objects.get(object_id=str(subs[0].pk))
    assert entry.user == operator and entry.action_flag == audit.CHANGE
    assert entry.get_change_message() == "Opted out: consent: opted_in → opted_out (why)"


def test_long_and_empty_values_stay_readable():
    text = audit.describe("Edited", {"text": ("", "x" * 200)})
    assert text.startswith("Edited: text: (empty) → xxx") and text.endswith("…")


def test_an_action_on_a_whole_model_is_recorded_without_an_object(operator):
    entry = audit.record_for_model(operator, Subscriber, "Imported", detail="12 rows")
    assert entry.object_id is None and entry.content_type.model == "subscriber"
    assert entry.get_change_message() == "Imported (12 rows)"
