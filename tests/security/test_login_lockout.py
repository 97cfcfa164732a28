"""Guessing admin passwords: locked out per user name and per address, and unlocked by a superuser.

Every attempt goes through the admin's own login form over HTTP. Addresses are
documentation ranges (RFC 5737); no traffic goes to them.
"""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.security.conftest import PASSWORD, SUPER, role_user

pytestmark = pytest.mark.django_db
LOGIN = reverse("admin:login")
ADDRESS, OTHER_ADDRESS = "192.0.2.10", "198.51.100.20"


def log_in(username: str, password: str, address: str = ADDRESS, **headers: str):
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})
    return client, response


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(times: int, username: str, address: str = ADDRESS, **headers: str) -> list[int]:
    return [log_in(username, "wrong-password", address, **headers)[1].status_code
            for _ in range(times)]  # fmt: skip


def test_the_right_password_is_refused_after_the_failure_limit_and_the_page_says_when_to_retry():
    user = role_user(SUPER)
    limit = settings.AXES_FAILURE_LIMIT
    statuses = fail(limit, user.username)
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, with its error
    assert statuses[-1] == 429

    client, response = log_in(user.username, PASSWORD)
    assert response.status_code == 429 and not logged_in(client)
    page = response.content.decode()
    assert "Try again in 15 minutes" in page and response["Retry-After"] == "900"
    assert AccessAttempt.objects.get(username=user.username).failures_since_start >= limit


def test_a_user_name_is_locked_whatever_address_the_guesses_come_from():
    user = role_user(SUPER)
    for i in range(settings.AXES_FAILURE_LIMIT):
        fail(1, user.username, address=f"203.0.113.{i + 1}")
    client, response = log_in(user.username, PASSWORD, address=OTHER_ADDRESS)
    assert response.status_code == 429 and not logged_in(client)


def test_an_address_is_locked_whatever_user_names_it_tries():
    user = role_user(SUPER)
    for i in range(settings.AXES_FAILURE_LIMIT):
        fail(1, f"guess-{i}")
    client, response = log_in(user.username, PASSWORD)
    assert response.status_code == 429 and not logged_in(client)
    # Another address may still log in as that user.
    client, response = log_in(user.username, PASSWORD, address=OTHER_ADDRESS)
    assert response.status_code == 302 and logged_in(client)


def test_a_client_cannot_choose_its_address_with_a_forwarded_header():
    for i in range(settings.AXES_FAILURE_LIMIT):
        fail(1, f"guess-{i}", HTTP_X_FORWARDED_FOR=f"203.0.113.{i + 1}")
    _, response = log_in("guess-new", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429


def test_a_superuser_unlocks_a_locked_out_user_in_the_admin_and_it_is_recorded():
    locked = role_user("Operations Manager")
    fail(settings.AXES_FAILURE_LIMIT, locked.username, address=OTHER_ADDRESS)
    assert log_in(locked.username, PASSWORD, address=OTHER_ADDRESS)[1].status_code == 429

    root = User.objects.create_superuser("root", "root@example.test", "root-password-0123")
    admin = Client(REMOTE_ADDR=ADDRESS)
    admin.force_login(root)
    attempt = AccessAttempt.objects.get(username=locked.username)
    listing = admin.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert locked.username in listing
    delete = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert admin.post(delete, {"post": "yes"}).status_code == 302

    client, response = log_in(locked.username, PASSWORD, address=OTHER_ADDRESS)
    assert response.status_code == 302 and logged_in(client)
    unlock = LogEntry.objects.get(action_flag=DELETION, object_id=str(attempt.pk))
    assert unlock.user == root
