"""The dashboard and a broadcast page against the same pages at the commit before the
one outcome model (messaging.outcomes), measured back to back in one run.

The commit before (BENCH_BEFORE, default 12bd60e) is checked out beside this one
(git worktree); each checkout migrates and fills a scratch PostgreSQL database of
its own with its own bench data (BENCH_MESSAGES messages, default 1,000,000), then
serves its pages in a process of its own (bench/screens_worker.py). The two are
asked in turn, in a random order each round (BENCH_ROUNDS, default 100), so that
whatever else the machine does falls on both alike; the figure is the ratio of
the median server times. The limit is 1.2x.
"""

import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BEFORE = os.environ.get("BENCH_BEFORE", "12bd60e")
LIMIT = 1.2
PAGES = {"home": "dashboard (admin home)", "broadcast": "broadcast page"}
ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "screens_worker.py"


def run() -> list[str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return ["skipped: needs PostgreSQL (set DATABASE_URL=postgres://…)"]
    if subprocess.run(  # noqa: S603 - fixed arguments
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{BEFORE}^{{commit}}"],  # noqa: S607
        capture_output=True,
        check=False,
    ).returncode:
        return [f"skipped: commit {BEFORE} is not in this clone (a shallow clone?)"]
    messages = int(os.environ.get("BENCH_MESSAGES", "1000000"))
    subscribers = int(os.environ.get("BENCH_SUBSCRIBERS", "100000"))
    days = int(os.environ.get("BENCH_DAYS", "60"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "100"))
    sizes = (messages, subscribers, days)
    with tempfile.TemporaryDirectory(prefix="bench-before-") as parent:
        before = Path(parent) / "before"
        _git("worktree", "add", "--detach", str(before), BEFORE)
        trees = {"now": ROOT, "before": before}
        databases = {name: _scratch_url(url, f"bench_screens_{name}") for name in trees}
        try:
            for name, tree in trees.items():
                _recreate(url, databases[name])
                env = _env(tree, databases[name])
                _python(tree, env, str(tree / "manage.py"), "migrate", "-v0")
                _python(tree, env, "-c", WORKER.read_text(), "fill", *map(str, sizes))
            times = _alternate(trees, databases, rounds)
        finally:
            for name in trees:
                _drop(url, databases[name])
            _git("worktree", "remove", "--force", str(before))
    lines = [f"PostgreSQL, {messages:,} messages each; {rounds} rounds, both asked in turn"]
    for page, label in PAGES.items():
        now = statistics.median(times["now", page])
        was = statistics.median(times["before", page])
        ratio = now / was
        verdict = "ok" if ratio <= LIMIT else f"OVER the {LIMIT}x limit"
        lines.append(
            f"{label:<24} now {now:7.1f} ms  before ({BEFORE}) {was:7.1f} ms  x{ratio:4.2f}  "
            f"{verdict}"
        )
    return lines


def _alternate(
    trees: dict[str, Path], databases: dict[str, str], rounds: int
) -> dict[tuple[str, str], list[float]]:
    workers = {}
    try:
        for name, tree in trees.items():
            workers[name] = subprocess.Popen(  # noqa: S603 - our own script
                [sys.executable, "-c", WORKER.read_text(), "serve"],
                cwd=tree,
                env=_env(tree, databases[name]),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert _answer(workers[name]) == "ready", name
        times: dict[tuple[str, str], list[float]] = {(n, p): [] for n in trees for p in PAGES}
        for _ in range(rounds):
            for page in PAGES:
                order = list(workers)
                random.shuffle(order)
                for name in order:
                    assert workers[name].stdin is not None
                    workers[name].stdin.write(page + "\n")
                    workers[name].stdin.flush()
                    times[name, page].append(float(_answer(workers[name])))
        return times
    finally:
        for worker in workers.values():
            if worker.stdin:
                worker.stdin.close()
            worker.wait(timeout=60)


def _answer(worker: subprocess.Popen) -> str:
    assert worker.stdout is not None
    return worker.stdout.readline().strip()


def _env(tree: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(tree),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }


def _python(tree: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, *args], cwd=tree, env=env, check=True)  # noqa: S603


def _git(*args: str) -> None:
    subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True)  # noqa: S603, S607


def _scratch_url(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(_scratch_url(url, "postgres"), autocommit=True)


def _recreate(url: str, database_url: str) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop(url: str, database_url: str) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
