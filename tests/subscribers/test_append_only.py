"""Consent events cannot be changed: in the ORM, and on PostgreSQL in the database too."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction

from subscribers.models import ConsentEvent


@pytest.mark.django_db
def test_updates_and_deletes_are_refused(subscribe):
    subscribe("+13125550123")
    event = ConsentEvent.objects.get()
    if connection.vendor == "postgresql":
        for sql in (
            "UPDATE subscribers_consentevent SET source = 'admin' WHERE id = %s",
            "DELETE FROM subscribers_consentevent WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql, [event.pk])
    else:
        with pytest.raises(PermissionDenied):
            ConsentEvent.objects.filter(pk=event.pk).update(source="admin")
        with pytest.raises(PermissionDenied):
            ConsentEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.source == "sms_keyword"
    # Appending stays possible.
    subscribe("+13125550123", status="opted_out")
    assert ConsentEvent.objects.count() == 2
