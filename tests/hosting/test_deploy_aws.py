"""deploy_aws against moto, with tests/fakes/ecs_outcomes.py saying how tasks end."""

import threading

import pytest

from smsbot.aws import client
from tests.hosting.conftest import SHA
from tests.provisioning.conftest import run

FAMILIES = ["smsbot-web", "smsbot-worker", "smsbot-beat"]
IMAGE = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/smsbot:{SHA}"


def services() -> dict[str, dict]:
    answer = client("ecs").describe_services(cluster="smsbot", services=FAMILIES)
    return {s["serviceName"]: s for s in answer["services"]}


def test_deploys_three_revisions_after_the_migration(hosting):
    result = run("deploy_aws", "--image", SHA)
    assert result.error is None, result.out
    assert f"Deployed {SHA}: smsbot-web:2, smsbot-worker:2, smsbot-beat:2" in result.out

    ecs = client("ecs")
    for name in FAMILIES:
        definition = ecs.describe_task_definition(taskDefinition=name)["taskDefinition"]
        assert definition["revision"] == 2
        [container] = definition["containerDefinitions"]
        assert container["image"] == IMAGE
        assert definition["taskRoleArn"] == "arn:aws:iam::123456789012:role/smsbot-portal"
        assert all(":secret:smsbot/app-" in s["valueFrom"] for s in container["secrets"])
        assert not {e["name"] for e in container["environment"]} & {
            "DATABASE_URL",
            "DJANGO_SECRET_KEY",
        }

    operations = [op for op, _ in hosting.calls]
    run_task = operations.index("RunTask")
    assert operations.count("RegisterTaskDefinition") == 3 + 3  # provision, then deploy
    assert run_task > max(i for i, op in enumerate(operations) if op == "RegisterTaskDefinition")
    assert run_task < min(
        i for i, op in enumerate(operations) if op == "UpdateService" and i > run_task
    )
    [(_, started)] = [(op, r) for op, r in hosting.calls if op == "RunTask"]
    assert started["taskDefinition"].endswith("task-definition/smsbot-web:2")
    assert started["overrides"]["containerOverrides"] == [
        {"name": "web", "command": ["python", "manage.py", "migrate", "--noinput"]}
    ]
    assert started["launchType"] == "FARGATE"

    now = services()
    assert {n: s["taskDefinition"].rsplit("/", 1)[-1] for n, s in now.items()} == {
        "smsbot-web": "smsbot-web:2",
        "smsbot-worker": "smsbot-worker:2",
        "smsbot-beat": "smsbot-beat:2",
    }
    assert {n: s["desiredCount"] for n, s in now.items()} == {
        "smsbot-web": 1,
        "smsbot-worker": 1,
        "smsbot-beat": 1,
    }
    # Beat never runs twice, even during a deploy.
    assert now["smsbot-beat"]["deploymentConfiguration"]["minimumHealthyPercent"] == 0
    assert now["smsbot-beat"]["deploymentConfiguration"]["maximumPercent"] == 100

    # provision_aws afterwards keeps the deployed image: nothing to change.
    from tests.provisioning.conftest import provision

    again = provision()
    assert [line for line in again.lines("update") if "ECS" in line] == [], again.out


@pytest.mark.parametrize("code", [1, None])
def test_a_failed_migration_stops_the_deploy(hosting, code):
    hosting.exit_code = code
    result = run("deploy_aws", "--image", SHA)
    shown = "1" if code == 1 else "none"
    assert result.error.startswith(f"the migration failed: exit code {shown}")
    assert "Log stream: /smsbot/ecs/web web/web/" in result.error
    assert result.error.endswith("Services unchanged.")
    assert "UpdateService" not in [op for op, r in hosting.calls if "taskDefinition" in r]
    assert {s["taskDefinition"].rsplit(":", 1)[-1] for s in services().values()} == {"1"}


def test_dry_run_changes_nothing(hosting):
    result = run("deploy_aws", "--image", SHA, "--dry-run")
    assert result.error is None
    assert f"smsbot-beat: revision 1 runs not-deployed → a new revision with {SHA}" in result.out
    assert "would run python manage.py migrate --noinput as a one-off task" in result.out
    assert "Dry run: nothing was changed." in result.out
    ecs = client("ecs")
    assert (
        ecs.describe_task_definition(taskDefinition="smsbot-web")["taskDefinition"]["revision"] == 1
    )
    assert "RunTask" not in [op for op, _ in hosting.calls]


def test_refuses_while_another_deploy_is_in_progress(hosting, settings):
    settings.ECS_DEPLOY_BUSY_WAIT_SECONDS = 0
    hosting.rollout["smsbot-worker"] = ("IN_PROGRESS", "ECS deployment ecs-svc/1 in progress.")
    result = run("deploy_aws", "--image", SHA)
    assert result.error.startswith("another deployment is in progress, waited 0s: smsbot-worker")
    assert "RegisterTaskDefinition" not in [op for op, _ in hosting.calls[-5:]]
    assert (
        client("ecs").describe_task_definition(taskDefinition="smsbot-web")["taskDefinition"][
            "revision"
        ]
        == 1
    )


def test_waits_for_a_deploy_in_progress_then_deploys(hosting, settings):
    settings.ECS_DEPLOY_BUSY_WAIT_SECONDS = 60
    hosting.rollout["smsbot-beat"] = ("IN_PROGRESS", "ECS deployment ecs-svc/2 in progress.")
    # The other deployment ends a moment later.
    done = threading.Timer(0.5, hosting.rollout.pop, args=("smsbot-beat",))
    done.start()
    try:
        result = run("deploy_aws", "--image", SHA)
    finally:
        done.cancel()
    assert result.error is None, result.out
    waited = [line for line in result.out.splitlines() if line.startswith("waiting: ")]
    assert waited and "smsbot-beat: deployment" in waited[0], result.out
    assert "ecs-svc/2 in progress" in waited[0]
    assert f"Deployed {SHA}" in result.out
    assert result.out.index("waiting: ") < result.out.index("registered ")


def test_names_the_service_the_circuit_breaker_rolled_back(hosting):
    hosting.rollout["smsbot-web"] = (
        "FAILED",
        "ECS deployment circuit breaker: tasks failed to start.",
    )
    result = run("deploy_aws", "--image", SHA)
    assert result.error.startswith("the deployment circuit breaker rolled back: smsbot-web")
    assert "tasks failed to start" in result.error
    assert "smsbot-worker" not in result.error


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_refuses_an_image_not_in_the_repository(hosting, dry_run):
    # A rollback to a mistyped SHA: nothing registered, nothing run.
    missing = "fedcba9876543210fedcba9876543210fedcba98"
    before = len(hosting.calls)
    result = run("deploy_aws", "--image", missing, *dry_run)
    assert result.error == (
        f"no image {missing} in the ECR repository smsbot: push it first (the deploy "
        "workflow builds it for each commit CI passed on main) or name a tag it holds. "
        "Nothing was changed."
    )
    assert hosting.calls[before:] == []
    ecs = client("ecs")
    assert (
        ecs.describe_task_definition(taskDefinition="smsbot-web")["taskDefinition"]["revision"] == 1
    )


@pytest.mark.parametrize("tag", ["", "latest; rm -rf /", "-x", "a" * 129])
def test_refuses_what_is_not_a_tag(hosting, tag):
    result = run("deploy_aws", f"--image={tag}")
    assert "is not an image tag" in result.error


def test_refuses_without_the_hosting(aws):
    result = run("deploy_aws", "--image", SHA)
    assert result.error == "DEPLOY_TARGET is not ecs: nothing to deploy to."
