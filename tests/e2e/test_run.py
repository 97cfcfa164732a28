"""`make run`'s processes, started the way it starts them: honcho with the Procfile."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def run(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_make_run_processes_serve_the_styled_admin_and_are_ready(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "DJANGO_SETTINGS_MODULE": "smsbot.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "e2e-secret-key-" + "x" * 40,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_FOLDER": str(tmp_path / "broker"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "WEB_BIND": f"127.0.0.1:{port}",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "PYTHONUNBUFFERED": "1",
    }
    # make run's order: migrate (which loads every URL) before collectstatic.
    run([sys.executable, "manage.py", "migrate", "--noinput"], env)
    run([sys.executable, "manage.py", "collectstatic", "--noinput"], env)
    log_path = tmp_path / "honcho.log"
    with log_path.open("w") as log:
        honcho = subprocess.Popen(
            [str(BIN / "honcho"), "start", "web", "worker", "beat"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        ready = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                ready = requests.get(f"{base}/readyz/", timeout=30)
                if ready.status_code == 200:
                    break
            except requests.RequestException:
                pass  # still starting: a busy machine may take a while
            time.sleep(0.5)
        assert ready is not None and ready.status_code == 200, log_path.read_text()
        favicon = requests.get(f"{base}/favicon.ico", timeout=30)
        assert favicon.status_code == 200 and "svg" in favicon.headers["Content-Type"]

        login = requests.get(f"{base}/admin/login/", timeout=30)
        assert login.status_code == 200
        stylesheets = re.findall(r'<link[^>]+href="([^"]+\.css)"', login.text)
        assert stylesheets, login.text[:500]
        for href in stylesheets:
            css = requests.get(base + href, timeout=30)
            assert css.status_code == 200, href
            assert "text/css" in css.headers["Content-Type"]

        # The worker and beat come up alongside the web server.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            output = log_path.read_text()
            if re.search(r"worker\.1 .*ready", output) and re.search(r"beat\.1 .*Starting", output):
                break
            time.sleep(0.5)
        output = log_path.read_text()
        assert re.search(r"worker\.1 .*ready", output), output
        assert re.search(r"beat\.1 .*Starting", output), output
        assert honcho.poll() is None, output
    finally:
        os.killpg(honcho.pid, signal.SIGINT)
        try:
            honcho.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait()
