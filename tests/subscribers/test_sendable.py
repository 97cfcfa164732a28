"""Who may receive a broadcast: the filter, the column, the claim's SQL and the one-row
check agree, by number and by e-mail."""

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
# The address's consent ("" with no address) and deliverability, with the number's
# consent (a STOP ends the e-mail too); erasure and pause as above.
EMAIL_STATES = list(
    itertools.product(
        ["", *ConsentStatus.values],
        (False, True),
        ConsentStatus.values,
        (None, NOW - timedelta(days=1)),
        PAUSES,
    )
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


def fictional_number(i: int) -> str:
    """The i-th of the fictional numbers: +1 312 555 0100..0199, then Australia's."""
    return f"+13125550{100 + i}" if i < 100 else f"+61491570{6 + i - 100:03d}"


@pytest.fixture
def every_email_state(db) -> list[Subscriber]:
    return Subscriber.objects.bulk_create(
        Subscriber(
            phone=fictional_number(i),
            email=f"reader{i}@example.com" if status else "",
            email_status=status,
            email_undeliverable=undeliverable,
            # The number's own deliverability does not matter to the address.
            undeliverable=i % 2 == 0,
            consent_status=consent,
            erased_at=erased_at,
            paused_until=paused_until,
        )
        for i, (status, undeliverable, consent, erased_at, paused_until) in enumerate(EMAIL_STATES)
    )


def forms_agree(email: bool) -> set[int]:
    """The subscribers each form takes (asserted equal), and the column's reasons
    asserted to be the one-row check's."""
    by_filter = set(
        Subscriber.objects.filter(sendable(NOW, email=email)).values_list("pk", flat=True)
    )
    table = connection.ops.quote_name(Subscriber._meta.db_table)
    condition, params = sendable_sql(table, NOW, email=email)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE {condition}", params)
        by_sql = {pk for (pk,) in cursor.fetchall()}
    by_row = {s.pk for s in Subscriber.objects.all() if refusal(s, NOW, email=email) is None}
    assert by_filter == by_sql == by_row
    # The column gives every row the reason the one-row check gives.
    column = dict(
        Subscriber.objects.annotate(r=refusal_column(NOW, email=email)).values_list("pk", "r")
    )
    assert column == {s.pk: refusal(s, NOW, email=email) or "" for s in Subscriber.objects.all()}
    return by_filter


def test_the_forms_of_the_rule_pick_the_same_subscribers(every_state):
    # Opted in, deliverable, kept, and not paused at NOW (a pause ending at NOW is over).
    assert len(forms_agree(email=False)) == 3


def test_the_forms_of_the_email_rule_pick_the_same_subscribers(every_email_state):
    taken = forms_agree(email=True)
    # A confirmed deliverable address, a number not opted out (two of three
    # statuses), kept, and not paused at NOW (three of four pauses).
    assert len(taken) == 2 * 3
    rows = Subscriber.objects.filter(pk__in=taken)
    assert {s.consent_status for s in rows} == {ConsentStatus.OPTED_IN, ConsentStatus.PENDING}
    assert {s.undeliverable for s in rows} == {False, True}


def test_one_row_says_the_first_reason_and_a_pause_only_when_it_counts(every_state):
    paused = Subscriber(consent_status=ConsentStatus.OPTED_IN, paused_until=NOW + timedelta(1))
    assert refusal(paused, NOW) == Refusal.PAUSED
    assert refusal(paused, NOW, pause=False) is None
    gone = Subscriber(consent_status=ConsentStatus.OPTED_OUT, undeliverable=True, erased_at=NOW)
    assert refusal(gone, NOW) == Refusal.UNDELIVERABLE
    assert refusal(None, NOW) == Refusal.NOT_OPTED_IN


def test_an_address_is_refused_by_its_own_state_and_by_the_numbers_stop():
    confirmed = {"email": "reader@example.com", "email_status": ConsentStatus.OPTED_IN}
    stopped = Subscriber(**confirmed, consent_status=ConsentStatus.OPTED_OUT)
    assert refusal(stopped, NOW, email=True) == Refusal.NUMBER_OPTED_OUT
    bounced = Subscriber(**confirmed, email_undeliverable=True)
    assert refusal(bounced, NOW, email=True) == Refusal.UNDELIVERABLE
    # A number that stopped working leaves the address (the fallback's case) alone.
    lost_phone = Subscriber(**confirmed, consent_status=ConsentStatus.OPTED_IN, undeliverable=True)
    assert refusal(lost_phone, NOW, email=True) is None
    assert refusal(lost_phone, NOW) == Refusal.UNDELIVERABLE
    assert refusal(Subscriber(), NOW, email=True) == Refusal.NOT_OPTED_IN
    assert refusal(None, NOW, email=True) == Refusal.NOT_OPTED_IN
