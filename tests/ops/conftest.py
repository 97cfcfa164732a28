import pytest
from django.test import Client

from tests.ops.factories import ops_manager


@pytest.fixture
def ops_user(db):  # type: ignore[no-untyped-def]
    return ops_manager()


@pytest.fixture
def ops_client(ops_user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(ops_user)
    return client
