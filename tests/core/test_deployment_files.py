"""The Procfile (make run) and docker/compose.yaml must describe the same processes;
compose passes the operator's whole settings file; the image carries only the app."""

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.core.test_settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "beat")
# What compose itself decides, over the operator's docker/.env.
COMPOSE_OVERRIDES = {
    "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "WEB_BIND", "DJANGO_SECRET_KEY",
    "ADMIN_2FA_REQUIRED",
}  # fmt: skip


def procfile() -> dict[str, list[str]]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            entries[name.strip()] = shlex.split(command)
    return entries


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())


def compose_command(service: dict) -> list[str]:
    command = service.get("entrypoint") or service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def test_compose_runs_the_procfile_processes_with_the_same_commands():
    services = compose()["services"]
    for name, command in procfile().items():
        assert name in services, f"{name} is in the Procfile but not in compose"
        in_compose = compose_command(services[name])
        if name == "aws":
            # Same program and port; only the listen address differs (container vs loopback).
            assert in_compose[0] == command[0] == "moto_server"
            assert in_compose[in_compose.index("-p") + 1] == command[command.index("-p") + 1]
            assert services[name]["profiles"] == ["local-aws"]
        else:
            assert in_compose == command


def test_workers_serve_every_declared_queue_replies_first():
    from smsbot.celery import app

    command = procfile()["worker"]
    queues = command[command.index("--queues") + 1].split(",")
    assert set(queues) == {q.name for q in app.conf.task_queues}
    # Redis serves a worker's queues in the order given: replies, then the mirror's
    # reconcile (a broadcast must not hold it back for hours), then bulk.
    assert queues == ["replies", "mirror", "bulk"]


def test_compose_has_the_backing_services_and_health_checks():
    services = compose()["services"]
    assert {"web", "worker", "beat", "redis", "postgres"} <= set(services)
    assert "/readyz/" in " ".join(services["web"]["healthcheck"]["test"])
    # Scaling workers must not collide on a fixed name or port.
    assert "container_name" not in services["worker"] and "ports" not in services["worker"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["CELERY_BROKER_URL"].startswith("redis://")
        assert env["DATABASE_URL"].startswith("postgres://")


def test_dockerfile_is_multi_stage_non_root_and_collects_static():
    text = (ROOT / "docker" / "Dockerfile").read_text()
    assert text.count("FROM ") >= 2
    assert "USER smsbot" in text
    assert "collectstatic" in text
    assert "requirements-dev" not in text
    assert "/healthz/" in text


def test_compose_passes_the_whole_settings_file_and_overrides_only_its_own():
    services = compose()["services"]
    for name in APP_SERVICES:
        service = services[name]
        assert service["env_file"] == ".env", name  # docker/.env, beside the compose file
        assert set(service["environment"]) == COMPOSE_OVERRIDES, name
        assert service["environment"]["ADMIN_2FA_REQUIRED"] == "true"
    # The address gunicorn binds is the one compose publishes and health-checks.
    web = services["web"]
    port = web["environment"]["WEB_BIND"].rpartition(":")[2]
    assert web["ports"] == [f"{port}:{port}"]
    assert f"127.0.0.1:{port}/readyz/" in " ".join(web["healthcheck"]["test"])


def env_file(text: str) -> dict[str, str]:
    """KEY=VALUE lines as compose's env_file reads them (comments and blanks skipped)."""
    pairs = (line.partition("=") for line in text.splitlines())
    return {k.strip(): v for k, sep, v in pairs if sep and not k.lstrip().startswith("#")}


def test_a_copied_env_example_runs_in_compose_with_any_setting_changed():
    # What the operator writes (QUIET_HOURS once needed an edit of compose.yaml), then
    # the container's environment compose makes of it: the file, its overrides on top.
    written = (
        (ROOT / ".env.example")
        .read_text()
        .replace("QUIET_HOURS=21:00-08:00", "QUIET_HOURS=22:00-07:30")
    )
    overrides = compose()["services"]["web"]["environment"]
    container = {**env_file(written), **overrides, "DJANGO_SECRET_KEY": "k" * 60}
    result = load_settings(
        container,
        "s.QUIET_HOURS, s.DATABASES['default']['ENGINE'], s.ADMIN_2FA_REQUIRED, s.DEBUG, "
        "str(s.STATIC_ROOT) == str(s.BASE_DIR / 'staticfiles'), s.CELERY_BROKER_URL",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "('22:00-07:30', 'django.db.backends.postgresql', True, False, True, "
        "'redis://redis:6379/0')"
    )


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether the build context leaves path out, as Docker reads .dockerignore (the
    last matching pattern wins; excluding a directory excludes what it holds)."""
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        keep = pattern.startswith("!")
        body = pattern.lstrip("!").strip("/")
        regex = "".join(
            {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
            for token in re.findall(r"\*\*/|\*\*|\*|\?|[^*?]+", body)
        )
        if any(re.fullmatch(regex, candidate) for candidate in candidates):
            ignored = not keep
    return ignored


def test_the_image_carries_neither_tests_nor_bench_nor_settings_files():
    text = (ROOT / ".dockerignore").read_text()
    patterns = [p.strip() for p in text.splitlines() if p.strip() and not p.startswith("#")]
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    copied = [path for path in tracked if not dockerignored(path, patterns)]
    assert not [p for p in copied if p.startswith(("tests/", "bench/"))]
    # An operator's settings (docker/.env is what compose reads) never enter an image.
    for settings_file in (".env", "docker/.env"):
        assert dockerignored(settings_file, patterns), settings_file
    for needed in ("manage.py", "smsbot/settings.py", "docker/gunicorn.conf.py", "templates"):
        assert any(p == needed or p.startswith(f"{needed}/") for p in copied), needed
    # The Dockerfile copies the context as .dockerignore leaves it, nothing from elsewhere.
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert re.findall(r"^COPY (?!--from).*$", dockerfile, re.M) == [
        "COPY requirements.lock /tmp/requirements.lock",
        "COPY --chown=smsbot:smsbot . /app",
    ]


@pytest.mark.skipif(
    not shutil.which("docker-compose"), reason="Debian's docker-compose not installed"
)
def test_docker_compose_accepts_the_file(tmp_path):
    # The operator's docker/.env, written from .env.example, beside a copy of the file.
    (tmp_path / "docker").mkdir()
    shutil.copy(ROOT / "docker" / "compose.yaml", tmp_path / "docker" / "compose.yaml")
    shutil.copy(ROOT / ".env.example", tmp_path / "docker" / ".env")
    result = subprocess.run(
        ["docker-compose", "-f", "docker/compose.yaml", "config", "--quiet"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "compose-config-check"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
