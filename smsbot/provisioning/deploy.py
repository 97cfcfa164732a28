"""deploy_aws: an image from ECR onto the ECS services, migrations first.

The order: the image is in the repository → no other deployment in progress (wait,
then refuse) → a new revision of each task definition with the image → `migrate` as
a one-off task, which must exit 0 → the services on the new revisions → stable, or
the circuit breaker's rollback named. Every step says what it does; nothing is
changed before the migration passed but the registered revisions, which no service
runs yet.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, TextIO

from botocore.exceptions import WaiterError
from django.conf import settings
from django.core.management.base import CommandError

from smsbot.provisioning import ecs
from smsbot.provisioning.core import Context, client, translated, try_get

MIGRATE_COMMAND = ["python", "manage.py", "migrate", "--noinput"]
# Seconds between two looks at a task or the services (tests make it shorter).
POLL_SECONDS = 10.0
# Docker's rule for a tag.
TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
# What RegisterTaskDefinition takes back of what DescribeTaskDefinition answers.
REGISTERABLE = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "runtimePlatform",
    "ephemeralStorage",
)


class DeployError(CommandError):
    """The deploy stopped; the message says where and why."""


@dataclass(frozen=True)
class Revision:
    process: str
    current: dict[str, Any]
    image: str

    @property
    def current_tag(self) -> str:
        return self.current["containerDefinitions"][0]["image"].rsplit(":", 1)[-1]

    def definition(self) -> dict[str, Any]:
        new = {k: self.current[k] for k in REGISTERABLE if self.current.get(k)}
        new["containerDefinitions"] = [
            {**c, "image": self.image} if c["name"] == self.process else c
            for c in self.current["containerDefinitions"]
        ]
        return new


def _attempts(timeout: float) -> int:
    return max(1, int(timeout / max(POLL_SECONDS, 0.01)))


def check_tag(tag: str) -> str:
    if not TAG_PATTERN.fullmatch(tag):
        raise DeployError(f"--image {tag!r} is not an image tag (letters, digits, _ . -)")
    return tag


def in_progress() -> list[str]:
    """Why a deploy may not start now: each service mid-deployment, or missing."""
    reasons = []
    for process in ecs.PROCESSES:
        service = ecs.describe_service(process)
        if service is None:
            raise DeployError(
                f"service {ecs.family(process)} is missing: run provision_aws with "
                "DEPLOY_TARGET=ecs first"
            )
        for deployment in service.get("deployments", []):
            if deployment["status"] == "PRIMARY" and deployment.get("rolloutState") == (
                "IN_PROGRESS"
            ):
                reasons.append(
                    f"{service['serviceName']}: deployment {deployment['id']} in progress "
                    f"({deployment.get('rolloutStateReason', 'no reason given')})"
                )
    return reasons


def check_image(tag: str) -> None:
    """The tag must be in the repository: a rollback to a mistyped SHA stops here, before
    three revisions name an image no task could pull."""
    ecr = client("ecr")
    found = try_get(
        lambda: ecr.describe_images(
            repositoryName=ecs.repository_name(), imageIds=[{"imageTag": tag}]
        )["imageDetails"],
        "ImageNotFoundException",
        "RepositoryNotFoundException",
    )
    if not found:
        raise DeployError(
            f"no image {tag} in the ECR repository {ecs.repository_name()}: push it first "
            "(the deploy workflow builds it for each commit CI passed on main) or name a tag "
            "it holds. Nothing was changed."
        )


def wait_until_idle(out: TextIO) -> None:
    deadline = time.monotonic() + settings.ECS_DEPLOY_BUSY_WAIT_SECONDS
    while reasons := in_progress():
        if time.monotonic() >= deadline:
            raise DeployError(
                "another deployment is in progress, waited "
                f"{settings.ECS_DEPLOY_BUSY_WAIT_SECONDS}s: " + "; ".join(reasons)
            )
        out.write(f"waiting: {'; '.join(reasons)}\n")
        time.sleep(POLL_SECONDS)


def revisions(ctx: Context, tag: str) -> list[Revision]:
    found = []
    for process in ecs.PROCESSES:
        current = ecs.latest_definition(process)
        if current is None:
            raise DeployError(
                f"task definition {ecs.family(process)} is missing: run provision_aws with "
                "DEPLOY_TARGET=ecs first"
            )
        found.append(Revision(process, current, ecs.image_uri(ctx, tag)))
    return found


def register(revision: Revision) -> str:
    # No tags: ECS authorizes tags given at creation as ecs:TagResource, which the
    # GitHub deploy role does not hold (a revision is found by its family, not a tag).
    answer = client("ecs").register_task_definition(**revision.definition())
    return str(answer["taskDefinition"]["taskDefinitionArn"])


def migrate(web_definition: str, out: TextIO) -> None:
    """Run `migrate` with the new web revision; return only when it exited 0."""
    ecs_client = client("ecs")
    started = ecs_client.run_task(
        cluster=ecs.cluster_name(),
        taskDefinition=web_definition,
        launchType="FARGATE",
        networkConfiguration=ecs.network_configuration(),
        overrides={"containerOverrides": [{"name": "web", "command": MIGRATE_COMMAND}]},
        startedBy="deploy_aws",
    )
    if not started["tasks"]:
        why = "; ".join(f"{f.get('arn', '')} {f.get('reason', '')}" for f in started["failures"])
        raise DeployError(f"the migration task did not start: {why}. Services unchanged.")
    task_arn = started["tasks"][0]["taskArn"]
    task_id = task_arn.rsplit("/", 1)[-1]
    stream = f"{ecs.log_group('web')} web/web/{task_id}"
    out.write(f"migrate: task {task_id} started, waiting for it to stop\n")
    try:
        ecs_client.get_waiter("tasks_stopped").wait(
            cluster=ecs.cluster_name(),
            tasks=[task_arn],
            WaiterConfig={
                "Delay": POLL_SECONDS,
                "MaxAttempts": _attempts(settings.ECS_DEPLOY_TIMEOUT_SECONDS),
            },
        )
    except WaiterError as exc:
        ecs_client.stop_task(
            cluster=ecs.cluster_name(), task=task_arn, reason="deploy_aws: migration timed out"
        )
        raise DeployError(
            f"the migration did not finish within {settings.ECS_DEPLOY_TIMEOUT_SECONDS}s "
            f"({exc.reason}); it was stopped. Log stream: {stream}. Services unchanged."
        ) from exc
    task = ecs_client.describe_tasks(cluster=ecs.cluster_name(), tasks=[task_arn])["tasks"][0]
    container = next(c for c in task["containers"] if c["name"] == "web")
    code = container.get("exitCode")
    if code != 0:
        reason = container.get("reason") or task.get("stoppedReason") or "no reason given"
        raise DeployError(
            f"the migration failed: exit code {code if code is not None else 'none'} "
            f"({reason}). Log stream: {stream}. Services unchanged."
        )
    out.write("migrate: exited 0\n")


def update_services(arns: dict[str, str], out: TextIO) -> None:
    ecs_client = client("ecs")
    for process, arn in arns.items():
        ecs_client.update_service(
            cluster=ecs.cluster_name(),
            service=ecs.family(process),
            taskDefinition=arn,
            desiredCount=ecs.desired_count(process),
        )
        out.write(f"{ecs.family(process)}: updated to {arn.rsplit('/', 1)[-1]}\n")


def rolled_back(arns: dict[str, str]) -> list[str]:
    """The services whose new revision the circuit breaker gave up on, with its reason."""
    found = []
    for process, arn in arns.items():
        service = ecs.describe_service(process) or {}
        primary = next((d for d in service.get("deployments", []) if d["status"] == "PRIMARY"), {})
        failed = [d for d in service.get("deployments", []) if d.get("rolloutState") == "FAILED"]
        if failed or service.get("taskDefinition") != arn:
            reason = (failed or [primary])[0].get("rolloutStateReason", "no reason given")
            running = str(service.get("taskDefinition", "?")).rsplit("/", 1)[-1]
            found.append(f"{ecs.family(process)} (rolled back, runs {running}: {reason})")
    return found


def wait_until_stable(arns: dict[str, str], out: TextIO) -> None:
    names = [ecs.family(p) for p in arns]
    out.write(f"waiting for {', '.join(names)} to become stable\n")
    try:
        client("ecs").get_waiter("services_stable").wait(
            cluster=ecs.cluster_name(),
            services=names,
            WaiterConfig={
                "Delay": POLL_SECONDS,
                "MaxAttempts": _attempts(settings.ECS_DEPLOY_TIMEOUT_SECONDS),
            },
        )
    except WaiterError as exc:
        failed = rolled_back(arns)
        detail = "; ".join(failed) if failed else exc.reason
        raise DeployError(
            f"the services did not become stable within {settings.ECS_DEPLOY_TIMEOUT_SECONDS}s: "
            f"{detail}"
        ) from exc
    failed = rolled_back(arns)
    if failed:
        raise DeployError(
            "the deployment circuit breaker rolled back: " + "; ".join(failed) + ". Check the "
            "service events and /readyz/ of the new tasks."
        )


def deploy(ctx: Context, tag: str, out: TextIO, *, dry_run: bool) -> None:
    if not ecs.enabled():
        raise DeployError("DEPLOY_TARGET is not ecs: nothing to deploy to.")
    check_tag(tag)
    with translated("deploy_aws"):
        check_image(tag)
        wait_until_idle(out)
        planned = revisions(ctx, tag)
        for revision in planned:
            out.write(
                f"{ecs.family(revision.process)}: revision {revision.current['revision']} "
                f"runs {revision.current_tag} → a new revision with {tag}\n"
            )
        if dry_run:
            out.write(
                f"would run {' '.join(MIGRATE_COMMAND)} as a one-off task, then update "
                + ", ".join(
                    f"{ecs.family(p)} ({ecs.desired_count(p)} task(s))" for p in ecs.PROCESSES
                )
                + ".\nDry run: nothing was changed.\n"
            )
            return
        arns = {r.process: register(r) for r in planned}
        out.write(f"registered {', '.join(a.rsplit('/', 1)[-1] for a in arns.values())}\n")
        migrate(arns["web"], out)
        update_services(arns, out)
        wait_until_stable(arns, out)
    out.write(f"Deployed {tag}: " + ", ".join(a.rsplit("/", 1)[-1] for a in arns.values()) + "\n")
