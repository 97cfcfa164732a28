"""Fixtures for the subscribers app: staff users by group, a clean rate-limit cache."""

from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client

from subscribers.consent import change


@pytest.fixture(autouse=True)
def clean_cache() -> Iterator[None]:
    # Rate-limit counters live in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


def staff_client(group: str) -> Client:
    user = User.objects.create_user(
        f"{group.lower().replace(' ', '_')}", password="x", is_staff=True
    )
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ops_client(db: None) -> Client:
    return staff_client("Operations Manager")


@pytest.fixture
def devops_client(db: None) -> Client:
    return staff_client("DevOps")


@pytest.fixture
def subscribe(db: None) -> Callable[..., object]:
    def make(phone: str, status: str = "opted_in", channel: str = "sms"):
        return change(
            phone, status, "sms_keyword", {"text": "JOIN", "message_sid": "SM1"}, channel=channel
        ).subscriber

    return make


def run_action(client: Client, action: str, subscribers: list, **form: str):
    """Post an admin action on the subscriber list; with form data, its second step."""
    from django.urls import reverse

    data = {"action": action, "_selected_action": [s.pk for s in subscribers]}
    if form:
        data = {**data, "apply": "1", **form}
    return client.post(reverse("admin:subscribers_subscriber_changelist"), data)
