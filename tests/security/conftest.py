"""The four roles of the portal's admin, logged in: superuser, DevOps, Operations Manager, staff."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

SUPER, DEVOPS, OPS, STAFF = "superuser", "DevOps", "Operations Manager", "staff without a group"
ROLES = (SUPER, DEVOPS, OPS, STAFF)
PASSWORD = "role-password-for-tests-0123"


def role_user(role: str) -> User:
    """A staff user of the role; the groups are the ones the migrations create."""
    user = User.objects.create_user(
        role.lower().replace(" ", "-"),
        password=PASSWORD,
        is_staff=True,
        is_superuser=role == SUPER,
    )
    if role in (DEVOPS, OPS):
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def role_clients(db: None) -> dict[str, Client]:
    clients = {}
    for role in ROLES:
        client = Client()
        client.force_login(role_user(role))
        clients[role] = client
    return clients
