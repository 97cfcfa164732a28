"""provision_aws with DEPLOY_TARGET=ecs: the hosting resources, read back from moto."""

import json

from smsbot.aws import client
from tests.provisioning.conftest import provision, run

ACCOUNT = "123456789012"
HOSTING_WORDS = (
    "ECS ",
    "ECR ",
    "OIDC",
    "subnet ",
    "security group",
    "target group",
    "secret smsbot/app",
    "smsbot-task-execution",
    "smsbot-github-deploy",
    "/smsbot/ecs/",
)
FAMILIES = ["smsbot-web", "smsbot-worker", "smsbot-beat"]


def role(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def test_compose_users_see_nothing_new(aws):
    plan = provision("--dry-run")
    assert "ECS" not in plan.out and "ECR" not in plan.out and "OIDC" not in plan.out


def test_plan_then_create_then_nothing_to_do(operator_network, ecs_outcomes):
    plan = provision("--dry-run")
    for line in (
        "create    IAM role smsbot-task-execution",
        "create    CloudWatch log group /smsbot/ecs/web",
        "create    ECR repository smsbot",
        "create    ECS cluster smsbot",
        "create    ECS task definition smsbot-web",
        "create    ECS service smsbot-beat",
        "create    IAM OIDC provider token.actions.githubusercontent.com",
        "create    IAM role smsbot-github-deploy",
    ):
        assert line in plan.out
    assert client("ecs").list_clusters()["clusterArns"] == []

    provision()
    again = provision()
    assert again.lines("create") == [] and again.lines("update") == [], again.out
    assert "unchanged ECS service smsbot-web" in again.out

    verified = run("verify_aws")
    hosting = [line for line in verified.out.splitlines() if any(w in line for w in HOSTING_WORDS)]
    assert len(hosting) == 19, verified.out
    assert all(line.startswith("✓") for line in hosting), verified.out
    assert "✓ target group smsbot-web: ip targets on 8000, health check /readyz/" in verified.out
    assert "value-of" not in verified.out


def test_task_definitions_read_back(operator_network, ecs_outcomes, settings):
    settings.ECS_ENVIRONMENT = ["PUBLIC_BASE_URL"]
    provision()
    ecs = client("ecs")
    secret = operator_network["secret"]
    for process, name in zip(("web", "worker", "beat"), FAMILIES, strict=True):
        definition = ecs.describe_task_definition(taskDefinition=name)["taskDefinition"]
        assert definition["taskRoleArn"] == role("smsbot-portal")
        assert definition["executionRoleArn"] == role("smsbot-task-execution")
        assert (definition["cpu"], definition["memory"]) == ("256", "512")
        assert definition["requiresCompatibilities"] == ["FARGATE"]
        [container] = definition["containerDefinitions"]
        assert (
            container["image"] == f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/smsbot:not-deployed"
        )
        assert {s["name"]: s["valueFrom"] for s in container["secrets"]} == {
            key: f"{secret}:{key}::"
            for key in (
                "CELERY_BROKER_URL",
                "DATABASE_URL",
                "DJANGO_SECRET_KEY",
                "REDIS_URL",
                "TWILIO_ACCOUNT_SID",
                "TWILIO_AUTH_TOKEN",
                "WEBHOOK_TOKEN",
            )
        }
        environment = {e["name"]: e["value"] for e in container["environment"]}
        assert set(environment) == {
            "AWS_REGION",
            "AWS_RESOURCE_PREFIX",
            "WEB_BIND",
            "PUBLIC_BASE_URL",
        }
        assert "value-of" not in json.dumps(definition)
        assert container["logConfiguration"] == {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": f"/smsbot/ecs/{process}",
                "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": process,
            },
        }
    web = ecs.describe_task_definition(taskDefinition="smsbot-web")["taskDefinition"]
    [container] = web["containerDefinitions"]
    assert container["command"] == [
        "gunicorn",
        "smsbot.wsgi",
        "--config",
        "docker/gunicorn.conf.py",
    ]
    assert container["healthCheck"]["command"] == [
        "CMD-SHELL",
        "curl -fsS http://127.0.0.1:8000/readyz/ || exit 1",
    ]
    assert container["portMappings"][0]["containerPort"] == 8000
    worker = ecs.describe_task_definition(taskDefinition="smsbot-worker")["taskDefinition"]
    assert "--queues" in worker["containerDefinitions"][0]["command"]
    assert "replies,mirror,bulk" in worker["containerDefinitions"][0]["command"]

    groups = {g["logGroupName"]: g for g in client("logs").describe_log_groups()["logGroups"]}
    for process in ("web", "worker", "beat"):
        assert groups[f"/smsbot/ecs/{process}"]["retentionInDays"] == 30

    # A changed setting is one new revision per family, not a new family.
    settings.ECS_MEMORY = 1024
    changed = provision()
    assert len([line for line in changed.lines("update") if "task definition" in line]) == 3
    assert (
        ecs.describe_task_definition(taskDefinition="smsbot-web")["taskDefinition"]["revision"] == 2
    )


def test_secrets_never_in_the_plain_environment(operator_network, ecs_outcomes, settings):
    settings.ECS_ENVIRONMENT = ["DATABASE_URL"]
    result = run("provision_aws")
    assert "ECS_ENVIRONMENT names DATABASE_URL" in result.error


def test_missing_app_secret_is_named_before_anything_is_made(operator_network, ecs_outcomes):
    client("secretsmanager").delete_secret(SecretId="smsbot/app", ForceDeleteWithoutRecovery=True)
    result = run("provision_aws")
    assert "the secret smsbot/app is missing: create it in Secrets Manager first" in result.error
    assert client("ecs").list_clusters()["clusterArns"] == []


def test_repository_cluster_and_services(hosting):
    ecr = client("ecr")
    [repo] = ecr.describe_repositories(repositoryNames=["smsbot"])["repositories"]
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    policy = json.loads(ecr.get_lifecycle_policy(repositoryName="smsbot")["lifecyclePolicyText"])
    assert policy["rules"][0]["selection"]["countNumber"] == 20

    ecs = client("ecs")
    services = {
        s["serviceName"]: s
        for s in ecs.describe_services(cluster="smsbot", services=FAMILIES)["services"]
    }
    assert services["smsbot-beat"]["deploymentConfiguration"] == {
        "minimumHealthyPercent": 0,
        "maximumPercent": 100,
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
    }
    for name in ("smsbot-web", "smsbot-worker"):
        assert services[name]["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
            "enable": True,
            "rollback": True,
        }
    # Nothing runs until the first deploy_aws.
    assert {s["desiredCount"] for s in services.values()} == {0}
    [created_web] = [
        r for op, r in hosting.calls if op == "CreateService" and r["serviceName"] == "smsbot-web"
    ]
    assert created_web["loadBalancers"][0]["containerPort"] == 8000
    assert created_web["launchType"] == "FARGATE"


def test_verify_names_what_the_operator_got_wrong(hosting, settings, operator_network):
    client("elbv2").modify_target_group(
        TargetGroupArn=operator_network["target_group"], HealthCheckPath="/"
    )
    client("secretsmanager").put_secret_value(
        SecretId="smsbot/app", SecretString=json.dumps({"DATABASE_URL": "x"})
    )
    settings.ECS_SUBNETS = [*settings.ECS_SUBNETS, "subnet-00000000000000000"]
    verified = run("verify_aws")
    assert verified.error
    assert "✗ subnet subnet-00000000000000000: missing" in verified.out
    assert "health check path / (use /readyz/)" in verified.out
    assert "✗ secret smsbot/app: lacks DJANGO_SECRET_KEY, REDIS_URL" in verified.out


def test_teardown_removes_the_hosting(hosting):
    result = run("teardown_aws", "--yes")
    assert result.error is None, result.out
    assert "ECS service smsbot-beat: deleted" in result.out
    assert "ECS task definition smsbot-web: 1 revision(s) deregistered" in result.out
    assert "IAM OIDC provider token.actions.githubusercontent.com: deleted" in result.out
    assert "ECR repository smsbot: kept with its images" in result.out
    ecs = client("ecs")
    assert [c["status"] for c in ecs.describe_clusters(clusters=["smsbot"])["clusters"]] in (
        [],
        ["INACTIVE"],
    )
    assert ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"] == []
    roles = {r["RoleName"] for r in client("iam").list_roles()["Roles"]}
    assert not roles & {"smsbot-task-execution", "smsbot-github-deploy"}
    assert client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"] == []

    gone = run("teardown_aws", "--yes", "--delete-data")
    assert "ECR repository smsbot: deleted" in gone.out
    assert "ECS service smsbot-web: absent" in gone.out
