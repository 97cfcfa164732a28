"""The Procfile (make run) and docker/compose.yaml must describe the same processes."""

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.skipif(
    not shutil.which("docker-compose"), reason="Debian's docker-compose not installed"
)
def test_docker_compose_accepts_the_file():
    result = subprocess.run(
        ["docker-compose", "-f", "docker/compose.yaml", "config", "--quiet"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "compose-config-check"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
