"""The tree tells the architecture: each package imports only what its docstring allows."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package -> module prefixes it must not import (see each package's docstring)
FORBIDDEN = {
    "smsbot": ["messaging", "subscribers"],
    "subscribers": ["messaging"],
    "subscribers.mirror": ["subscribers.consent", "subscribers.admin"],
    # The providers' webhooks call inbound and outbound stands above the providers, so
    # inbound reading outbound would close a loop at package level.
    "messaging.inbound": [
        "messaging.providers", "messaging.outbound", "messaging.broadcasts",
        "messaging.reports", "messaging.admin",
    ],
    # The double opt-in confirmation stands below every package that reads it.
    "messaging.confirmations": [
        "messaging.inbound", "messaging.outbound", "messaging.broadcasts",
        "messaging.providers", "messaging.reports", "messaging.admin",
    ],
    "messaging.outbound": [
        "messaging.inbound", "messaging.providers.twilio", "messaging.providers.sns",
        "messaging.reports", "messaging.admin",
    ],
    "messaging.broadcasts": [
        "messaging.outbound", "messaging.providers", "messaging.reports", "messaging.admin",
    ],
    "messaging.billing": [
        "messaging.outbound", "messaging.broadcasts", "messaging.inbound", "messaging.delivery",
        "messaging.providers", "messaging.reports", "messaging.admin",
    ],
    "messaging.delivery": [
        "messaging.outbound", "messaging.billing", "messaging.broadcasts", "messaging.providers",
        "messaging.reports", "messaging.admin", "messaging.inbound",
    ],
    "messaging.providers": [
        "messaging.outbound", "messaging.billing", "messaging.broadcasts", "messaging.reports",
        "messaging.admin",
    ],
    "messaging.reports": [
        "messaging.inbound", "messaging.outbound.dispatch", "messaging.outbound.bulk_send",
        "messaging.providers", "messaging.admin",
    ],
}  # fmt: skip
# Narrow exceptions, each named in the importer's docstring: package -> modules it may read.
ALLOWED = {
    "messaging.inbound": ["messaging.broadcasts.schedule"],
    "messaging.delivery": ["messaging.broadcasts.states"],
}


def modules() -> dict[str, Path]:
    found = {}
    for app in ("smsbot", "subscribers", "messaging"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_its_docstring_forbids(package):
    broken = []
    for name, path in modules().items():
        if not within(name, package):
            continue
        for imported in imports_of(path):
            if any(within(imported, allowed) for allowed in ALLOWED.get(package, [])):
                continue
            for banned in FORBIDDEN[package]:
                if within(imported, banned) and not within(name, banned):
                    broken.append(f"{name} imports {imported}")
    assert not broken, "\n".join(sorted(set(broken)))


def test_nothing_outside_the_admin_imports_the_messaging_admin():
    offenders = [
        name
        for name, path in modules().items()
        if not within(name, "messaging.admin")
        and any(within(i, "messaging.admin") for i in imports_of(path))
    ]
    assert offenders == []


def test_every_subpackage_says_what_it_owns():
    for init in [
        *(ROOT / "messaging").rglob("__init__.py"),
        ROOT / "subscribers/mirror/__init__.py",
    ]:
        if {"migrations", "management", "templatetags"} & set(init.parts):
            continue
        assert ast.get_docstring(ast.parse(init.read_text())), f"{init} has no docstring"


def test_messaging_keeps_its_top_level_small():
    assert len(list((ROOT / "messaging").glob("*.py"))) <= 12


def test_every_task_name_constant_is_a_registered_task():
    from celery import current_app

    import messaging.tasks  # noqa: F401
    import subscribers.tasks  # noqa: F401
    from messaging import task_names as messaging_names
    from subscribers import task_names as subscriber_names

    registered = set(current_app.tasks)
    for names in (messaging_names, subscriber_names):
        constants = {v for k, v in vars(names).items() if k.isupper()}
        assert constants and constants <= registered, constants - registered


def test_every_periodic_task_is_registered():
    from smsbot.celery import app

    app.loader.import_default_modules()  # what a worker and beat do at start
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, name


def test_every_periodic_task_is_in_the_one_beat_table():
    import re

    from messaging.tasks import BEAT_TABLE
    from smsbot.celery import app

    app.loader.import_default_modules()
    assert set(app.conf.beat_schedule) == {name for name, *_ in BEAT_TABLE}
    scheduling = re.compile(r"\badd_periodic_task\b|\bbeat_schedule\b")
    elsewhere = [
        name
        for name, path in modules().items()
        if name != "messaging.tasks" and scheduling.search(path.read_text())
    ]
    assert elsewhere == []
