"""Who may receive a broadcast: the filter, the column, the claim's SQL and the one-row
check agree."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from subscribers.models import ConsentStatus, Subscriber
from subscribers.sendable import Refusal, refusal, refusal_column, sendable, sendable_sql

NOW = datetime(2027, 6, 1, 14, 0, tzinfo=UTC)
PAUSES = (None, NOW - timedelta(minutes=1), NOW, NOW + timedelta(minutes=1))
STATES = list(
    itertools.product(ConsentStatus.values, (False, True), (None, NOW - timedelta(days=1)), PAUSES)
)


@pytest.fixture
def every_state(db) -> list[Subscriber]:
    return Subscriber.objects.bulk_create(
        Subscriber(
            phone=f"+131255501{i:02d}",
            consent_status=consent,
            undeliverable=undeliverable,
            erased_at=erased_at,
            paused_until=paused_until,
        )
        for i, (consent, undeliverable, erased_at, paused_until) in enumerate(STATES)
    )


def test_the_forms_of_the_rule_pick_the_same_subscribers(every_state):
    by_filter = set(Subscriber.objects.filter(sendable(NOW)).values_list("pk", flat=True))
    table = connection.ops.quote_name(Subscriber._meta.db_table)
    condition, params = sendable_sql(table, NOW)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE {condition}", params)
        by_sql = {pk for (pk,) in cursor.fetchall()}
    by_row = {s.pk for s in Subscriber.objects.all() if refusal(s, NOW) is None}
    assert by_filter == by_sql == by_row
    # The column gives every row the reason the one-row check gives.
    column = dict(Subscriber.objects.annotate(r=refusal_column(NOW)).values_list("pk", "r"))
    assert column == {s.pk: refusal(s, NOW) or "" for s in Subscriber.objects.all()}
    # Opted in, deliverable, kept, and not paused at NOW (a pause ending at NOW is over).
    assert len(by_filter) == 3


def test_one_row_says_the_first_reason_and_a_pause_only_when_it_counts(every_state):
    paused = Subscriber(consent_status=ConsentStatus.OPTED_IN, paused_until=NOW + timedelta(1))
    assert refusal(paused, NOW) == Refusal.PAUSED
    assert refusal(paused, NOW, pause=False) is None
    gone = Subscriber(consent_status=ConsentStatus.OPTED_OUT, undeliverable=True, erased_at=NOW)
    assert refusal(gone, NOW) == Refusal.UNDELIVERABLE
    assert refusal(None, NOW) == Refusal.NOT_OPTED_IN
