"""The banners name the address the web process actually listens on (WEB_BIND)."""

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

from smsbot.web_address import admin_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000/admin/"),
        ("127.0.0.1:9123", "http://127.0.0.1:9123/admin/"),
        ("0.0.0.0:8000", "http://127.0.0.1:8000/admin/ (listening on 0.0.0.0:8000)"),
        ("[::]:8080", "http://127.0.0.1:8080/admin/ (listening on [::]:8080)"),
        ("[::1]:9000", "http://[::1]:9000/admin/"),
        ("localhost", "http://localhost:8000/admin/"),
        ("10.0.0.5:8080", "http://10.0.0.5:8080/admin/"),
    ],
)
def test_the_admin_address_of_a_bind(bind, url):
    assert admin_url(bind) == url


def test_a_socket_bind_is_named_as_a_socket():
    assert admin_url("unix:/run/smsbot.sock").startswith("unix:/run/smsbot.sock (a socket")


@pytest.mark.django_db
def test_seed_demos_banner_names_web_bind(monkeypatch, capsys):
    monkeypatch.setenv("WEB_BIND", "127.0.0.1:9123")
    call_command("seed_demo", "--admin-only")
    out = capsys.readouterr().out
    assert "for http://127.0.0.1:9123/admin/:" in out and ":8000" not in out
    monkeypatch.setenv("WEB_BIND", "")  # a copied .env.example: the default
    call_command("seed_demo", "--reset-password")
    assert "for http://127.0.0.1:8000/admin/:" in capsys.readouterr().out


def test_gunicorn_logs_the_port_it_actually_got(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        WEB_BIND="127.0.0.1:0",  # the kernel picks a free port
        WEB_CONCURRENCY="1",
        WEB_THREADS="1",
    )
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "smsbot.wsgi", "--config", "docker/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        banner = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "admin:" not in banner:
            banner = server.stderr.readline()
            assert banner or server.poll() is None, "gunicorn stopped before its banner"
        match = re.search(r"The portal's admin: http://127\.0\.0\.1:(\d+)/admin/$", banner.strip())
        assert match, banner
        port = int(match.group(1))
        assert port != 0
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"nothing answered on the port the banner named ({port})")
    finally:
        server.terminate()
        server.wait(timeout=30)
