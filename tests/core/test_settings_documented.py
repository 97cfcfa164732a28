"""Every environment variable the portal reads is in .env.example and in README's
configuration table, and both list nothing it does not read."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Where the processes read their environment: Django's settings, gunicorn's config and
# the bind address it shares with the banners.
READERS = ["smsbot/settings.py", "docker/gunicorn.conf.py", "smsbot/web_address.py"]


def is_os_environ(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def names_read(path: Path) -> set[str]:
    """Variables read through django-environ's env (env.str(...), env(...)), os.environ
    (.get, [...]) or os.getenv; a name that is not a literal fails the test, since it
    could not be checked."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        key = None
        if isinstance(node, ast.Call):
            func = node.func
            via_env = isinstance(func, ast.Name) and func.id == "env"
            via_env |= isinstance(func, ast.Attribute) and (
                isinstance(func.value, ast.Name) and func.value.id == "env"
            )
            via_os = isinstance(func, ast.Attribute) and (
                (func.attr == "get" and is_os_environ(func.value))
                or (func.attr == "getenv" and isinstance(func.value, ast.Name))
            )
            if (via_env or via_os) and node.args:
                key = node.args[0]
            elif via_env and isinstance(func, ast.Attribute) and func.attr == "read_env":
                continue
        elif isinstance(node, ast.Subscript) and is_os_environ(node.value):
            key = node.slice
        if key is None:
            continue
        assert isinstance(key, ast.Constant), f"{path}:{node.lineno}: a computed name"
        names.add(key.value)
    return names


def read_by_the_portal() -> set[str]:
    return set().union(*(names_read(ROOT / path) for path in READERS))


def in_env_example() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


def in_readme_table() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    # The first cell names the variables, each in full, in backticks.
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_the_reader_finds_what_it_must():
    read = read_by_the_portal()
    assert {"DJANGO_SECRET_KEY", "DATABASE_CONN_MAX_AGE", "WEB_BIND"} <= read
    assert {"FORWARDED_ALLOW_IPS", "WEB_CONCURRENCY", "PHONE_HASH_SALT"} <= read
    assert len(read) > 140


def test_env_example_lists_exactly_what_is_read():
    read, listed = read_by_the_portal(), in_env_example()
    assert not read - listed, f"read but not in .env.example: {sorted(read - listed)}"
    assert not listed - read, f"in .env.example but never read: {sorted(listed - read)}"


def test_readme_table_lists_exactly_what_is_read():
    read, documented = read_by_the_portal(), in_readme_table()
    assert not read - documented, f"read but not in README's table: {sorted(read - documented)}"
    assert not documented - read, f"in README's table, never read: {sorted(documented - read)}"
