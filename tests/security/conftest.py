"""Attacks on the public doors, each through HTTP, and the tally of what they got.

Every probe goes through a Probe: it counts the requests tried, those refused
(the status the door must answer) and any 5xx. The tally is printed at the end
of the run and written to test-artifacts/security-probes.json. The admin's four
roles, logged in: superuser, DevOps, Operations Manager, staff without a group.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client

from tests.conftest import ARTIFACTS
from tests.messaging.webhooks.conftest import (  # noqa: F401 - fixtures used here too
    cert_server,
    portal_answers,
    sns_key,
    sns_signer,
    twilio,
)

TALLY: dict[str, dict[str, int]] = {}


@dataclass
class Probe:
    name: str
    tried: int = 0
    refused: int = 0
    server_errors: int = 0
    statuses: list[int] = field(default_factory=list)
    # How many must be refused; None: all of them.
    must_refuse: int | None = None

    def attack(self, response, refused: bool | None = None):
        """Count one attacking request; refused defaults to "answered 4xx"."""
        self.record(response.status_code, refused)
        return response

    def record(self, status: int, refused: bool | None = None) -> None:
        self.tried += 1
        self.statuses.append(status)
        self.refused += bool(400 <= status < 500 if refused is None else refused)
        self.server_errors += status >= 500

    def check(self) -> None:
        assert self.server_errors == 0, f"{self.name}: 5xx in {self.statuses}"
        expected = self.tried if self.must_refuse is None else self.must_refuse
        assert self.refused == expected, f"{self.name}: {self.refused} refused: {self.statuses}"


@pytest.fixture
def probe(request: pytest.FixtureRequest) -> Iterator[Probe]:
    """A probe named after its test (all parameters together); it must end with every
    attack refused and no 5xx."""
    found = Probe(request.node.originalname)
    yield found
    if found.tried:
        counts = TALLY.setdefault(found.name, {"tried": 0, "refused": 0, "5xx": 0})
        counts["tried"] += found.tried
        counts["refused"] += found.refused
        counts["5xx"] += found.server_errors
        found.check()


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list]]:
    """The tasks the outbox hands to the broker after commit (name, args)."""
    from smsbot.celery import app

    calls: list[tuple[str, list]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **kwargs: calls.append((name, args)))
    return calls


@pytest.fixture(autouse=True)
def clean_cache() -> Iterator[None]:
    # Rate-limit counters live in the cache.
    cache.clear()
    yield
    cache.clear()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "security-probes.json").write_text(json.dumps(TALLY, indent=2, sort_keys=True))
    terminalreporter.section("security probes: tried / refused / 5xx")
    for name, counts in sorted(TALLY.items()):
        terminalreporter.write_line(
            f"{name}: {counts['tried']} / {counts['refused']} / {counts['5xx']}"
        )


SUPER, DEVOPS, OPS, STAFF = "superuser", "DevOps", "Operations Manager", "staff without a group"
ROLES = (SUPER, DEVOPS, OPS, STAFF)
PASSWORD = "role-password-for-tests-0123"


# The migrations that create the staff groups and grant them permissions.
GROUP_MIGRATIONS = (
    ("subscribers", "0003_i3_groups"),
    ("subscribers", "0005_groups_read_the_audit_log"),
    ("subscribers", "0009_subscriberevent_view_permission"),
    ("messaging", "0004_broadcast_and_schedule_permissions"),
    ("messaging", "0007_country_prices"),
)


def ensure_role_groups() -> None:
    """The groups as the migrations make them, made again after a transactional test's
    flush emptied every table (data migrations do not run again; post_migrate does)."""
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RunPython

    if Group.objects.filter(name__in=("Operations Manager", "DevOps")).count() == 2:
        return
    loader = MigrationLoader(None, ignore_no_migrations=True)
    # The migrations set each app's models_module to None when done (right for the
    # historical apps they get in a migrate, wrong for the live registry given here):
    # without it put back, later flushes' post_migrate makes no content types or
    # permissions at all.
    modules = {config.label: config.models_module for config in apps.get_app_configs()}
    try:
        for key in GROUP_MIGRATIONS:
            for operation in loader.disk_migrations[key].operations:
                if isinstance(operation, RunPython):
                    operation.code(apps, None)
    finally:
        for config in apps.get_app_configs():
            config.models_module = modules[config.label]


def role_user(role: str) -> User:
    """A staff user of the role; the groups are the ones the migrations create."""
    if role in (DEVOPS, OPS):
        ensure_role_groups()
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
