"""The first run as a newcomer lives it: make run, a second shell, Ctrl-C, local AWS."""

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.conftest import free_port
from tests.e2e.test_run import BIN, ROOT, database_url

# Never reinstall the shared virtualenv, and never touch the checkout's own var/.
MAKE = ["make", "--no-print-directory", "-o", "install", "-o", "var/secret_key"]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AWS_"))}
    env.update(
        PATH=f"{BIN}:{os.environ['PATH']}",
        DJANGO_SETTINGS_MODULE="smsbot.settings",
        CELERY_BROKER_FOLDER=str(tmp_path / "broker"),
        STATIC_ROOT=str(tmp_path / "static"),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def second_shell(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """manage.py run from a checkout whose var/ is tmp_path's (a copy of manage.py there)."""
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=tmp_path,
        env=clean_env(tmp_path, PYTHONPATH=str(ROOT), **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manage_py_in_a_second_shell_uses_make_runs_key(tmp_path):
    show_key = (
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
    )
    # No key anywhere: one sentence, no traceback.
    refused = second_shell(tmp_path, *show_key)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "Error: DJANGO_SECRET_KEY is not set. Set it (any long random string) or, for local "
        "development only, set DJANGO_DEBUG=true to use a dev-only key."
    ]
    # make run's key file: used as make run uses it.
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").write_text("key-from-make-run-" + "k" * 40 + "\n")
    used = second_shell(tmp_path, *show_key)
    assert used.returncode == 0, used.stderr
    assert used.stdout.strip() == "key-from-make-run-" + "k" * 40
    # The environment still wins.
    chosen = second_shell(tmp_path, *show_key, DJANGO_SECRET_KEY="from-the-environment-" + "e" * 40)
    assert chosen.stdout.strip() == "from-the-environment-" + "e" * 40


@pytest.mark.django_db
def test_seed_demo_prints_a_new_password_on_request(capsys):
    call_command("seed_demo", "--admin-only")
    first = capsys.readouterr().out
    assert "--reset-password" in first  # the banner says how to get it back
    call_command("seed_demo", "--admin-only")
    assert "are not shown again" in capsys.readouterr().out

    call_command("seed_demo", "--reset-password")
    printed = capsys.readouterr().out
    assert "Demo logins (new passwords)" in printed
    (password,) = re.findall(r"^  admin / (\S+)", printed, re.M)
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password(password)
    old = re.search(r"admin / (\S+)", first).group(1)
    assert not admin.check_password(old)


def test_make_provision_local_provisions_the_local_aws_emulator(aws, tmp_path):
    port = aws.rsplit(":", 1)[1]
    result = subprocess.run(
        [*MAKE, "provision-local", f"LOCAL_AWS_PORT={port}"],
        cwd=ROOT,
        env=clean_env(tmp_path, DJANGO_SECRET_KEY="provision-local-" + "p" * 40),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "create    DynamoDB table BotSubscribers" in result.stdout
    assert re.search(r"All \d+ checks passed\.", result.stdout), result.stdout


def read_until(fd: int, output: bytearray, pattern: bytes, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, output):
            return True
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal closed: everything has exited
                return bool(re.search(pattern, output))
            if not chunk:
                return bool(re.search(pattern, output))
            output.extend(chunk)
    return False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_make_run_then_ctrl_c_is_quiet_and_clean(tmp_path):
    """In a terminal, as a person runs it: the demo login, no warnings, a clean Ctrl-C."""
    env = clean_env(
        tmp_path,
        DJANGO_SECRET_KEY="make-run-" + "r" * 40,
        DATABASE_URL=database_url(),
        WEB_BIND=f"127.0.0.1:{free_port()}",
        WEB_CONCURRENCY="1",
    )
    pid, fd = pty.fork()
    if pid == 0:  # the child: make run in a terminal of its own
        os.chdir(ROOT)
        os.execvpe(MAKE[0], [*MAKE, "run"], env)
    output = bytearray()
    try:
        started = read_until(fd, output, rb"worker\.1 .*ready", timeout=240)
        assert started, output.decode(errors="replace")
        assert read_until(fd, output, rb"beat\.1 .*Starting", timeout=60)
        time.sleep(2)
        os.write(fd, b"\x03")  # Ctrl-C: the terminal signals the foreground group
        read_until(fd, output, rb"(?!)", timeout=30)  # everything it prints until it ends
        _, status = os.waitpid(pid, 0)
    finally:
        stop(pid)
        os.close(fd)
    text = output.decode(errors="replace")
    assert "--reset-password" in text  # the banner tells how to get the login again
    assert "SIGINT received" in text
    for noise in ("ERROR", "make: ***", "No hostname was supplied", "SIGKILL", "Traceback"):
        assert noise not in text, f"{noise!r} in:\n{text}"
    assert re.search(r"worker\.1 stopped", text)
    # make ends as a Ctrl-C'd program does (interrupted, silently), or with success.
    interrupted = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT
    assert interrupted or (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0)


def stop(pid: int) -> None:
    """If make run is still up (a failed test), Ctrl-C it as a person would, then kill it.

    pty.fork made it a session and process-group leader; honcho stops its own children.
    """
    try:
        os.killpg(pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:
            return
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)
