"""Hosting on ECS Fargate (DEPLOY_TARGET=ecs): the image repository, the cluster, web,
worker and beat as task definitions and services, their log groups and execution role.

The network, the load balancer's target group, the database, Redis and the
application's secret are the operator's: named by settings, checked by verify_aws.
Services are created with no task running; deploy_aws starts them with an image.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable
from typing import Any

from django.conf import settings

from smsbot.aws import resource_name
from smsbot.provisioning import iam, logs
from smsbot.provisioning.core import (
    Action,
    Change,
    Check,
    Context,
    Plan,
    ProvisionError,
    Resource,
    client,
    same_json,
    try_get,
)

PROCESSES = ("web", "worker", "beat")
EXECUTION_ROLE = "smsbot-task-execution"
WEB_PORT = 8000
# Where the repository stands before the first deploy: services then run no task.
UNDEPLOYED_TAG = "not-deployed"
# The keys of the application's secret (ECS_APP_SECRET), each read into the
# variable of the same name when a task starts; the image and the task
# definition carry only the reference.
SECRET_KEYS = (
    "DJANGO_SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "WEBHOOK_TOKEN",
)
TAGS = {"Project": "SMSBot"}


def enabled() -> bool:
    return settings.DEPLOY_TARGET == "ecs"


def repository_name() -> str:
    return resource_name("smsbot")


def cluster_name() -> str:
    return resource_name("smsbot")


def family(process: str) -> str:
    """The task definition family and the service of a process share this name."""
    return resource_name(f"smsbot-{process}")


def log_group(process: str) -> str:
    return f"/smsbot/{resource_name('ecs')}/{process}"


def app_secret_name() -> str:
    return resource_name(settings.ECS_APP_SECRET)


def image_uri(ctx: Context, tag: str) -> str:
    return f"{ctx.account_id}.dkr.ecr.{ctx.region}.amazonaws.com/{repository_name()}:{tag}"


def repository_arn(ctx: Context) -> str:
    return ctx.arn("ecr", f"repository/{repository_name()}")


def cluster_arn(ctx: Context) -> str:
    return ctx.arn("ecs", f"cluster/{cluster_name()}")


def service_arn(ctx: Context, process: str) -> str:
    return ctx.arn("ecs", f"service/{cluster_name()}/{family(process)}")


def app_secret_arn_pattern(ctx: Context) -> str:
    # Secrets Manager appends six random characters to every secret's ARN.
    return ctx.arn("secretsmanager", f"secret:{app_secret_name()}-??????")


def procfile_commands() -> dict[str, list[str]]:
    """The Procfile's processes: the containers run exactly what make run runs."""
    found = {}
    for line in (settings.BASE_DIR / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if command.strip():
            found[name.strip()] = shlex.split(command)
    return found


def network_configuration() -> dict[str, Any]:
    return {
        "awsvpcConfiguration": {
            "subnets": list(settings.ECS_SUBNETS),
            "securityGroups": list(settings.ECS_SECURITY_GROUPS),
            "assignPublicIp": "ENABLED" if settings.ECS_ASSIGN_PUBLIC_IP else "DISABLED",
        }
    }


# Logging in to ECR, for pulling (the tasks) and pushing (the deploy role):
# GetAuthorizationToken has no resource ARN in IAM.
ECR_LOGIN = {
    "Sid": "EcrLogin",
    "Effect": "Allow",
    "Action": "ecr:GetAuthorizationToken",
    "Resource": "*",
}


def execution_policy(ctx: Context) -> iam.PolicyDocument:
    return {
        "Version": "2012-10-17",
        "Statement": [
            ECR_LOGIN,
            {
                "Sid": "PullImage",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                "Resource": repository_arn(ctx),
            },
            {
                "Sid": "WriteLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [ctx.arn("logs", f"log-group:{log_group(p)}:*") for p in PROCESSES],
            },
            {
                "Sid": "ReadAppSecret",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": app_secret_arn_pattern(ctx),
            },
        ],
    }


# --- The image repository ----------------------------------------------------------


def lifecycle_policy() -> dict[str, Any]:
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"keep the last {settings.ECR_KEEP_IMAGES} images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": settings.ECR_KEEP_IMAGES,
                },
                "action": {"type": "expire"},
            }
        ]
    }


class Repository(Resource):
    kind = "ECR repository"

    @property
    def name(self) -> str:
        return repository_name()

    def _current(self) -> tuple[dict | None, dict | None]:
        ecr = client("ecr")
        found = try_get(
            lambda: ecr.describe_repositories(repositoryNames=[self.name])["repositories"][0],
            "RepositoryNotFoundException",
        )
        if found is None:
            return None, None
        policy = try_get(
            lambda: ecr.get_lifecycle_policy(repositoryName=self.name)["lifecyclePolicyText"],
            "LifecyclePolicyNotFoundException",
        )
        return found, policy and json.loads(policy)

    def plan(self, ctx: Context) -> Plan:
        found, policy = self._current()
        if found is None:
            return Plan(Action.CREATE)
        changes = []
        if not found.get("imageScanningConfiguration", {}).get("scanOnPush"):
            changes.append(Change("scan on push", "off", "on"))
        if policy is None or not same_json(policy, lifecycle_policy()):
            changes.append(Change("lifecycle", "differs", f"keep {settings.ECR_KEEP_IMAGES}"))
        return Plan(Action.UPDATE if changes else Action.UNCHANGED, changes)

    def apply(self, ctx: Context, plan: Plan) -> None:
        ecr = client("ecr")
        if plan.action is Action.CREATE:
            ecr.create_repository(
                repositoryName=self.name,
                imageScanningConfiguration={"scanOnPush": True},
                imageTagMutability="IMMUTABLE",
                tags=[{"Key": k, "Value": v} for k, v in TAGS.items()],
            )
        else:
            ecr.put_image_scanning_configuration(
                repositoryName=self.name, imageScanningConfiguration={"scanOnPush": True}
            )
        ecr.put_lifecycle_policy(
            repositoryName=self.name, lifecyclePolicyText=json.dumps(lifecycle_policy())
        )

    def verify(self, ctx: Context) -> list[Check]:
        found, policy = self._current()
        if found is None:
            return [Check(False, f"{self.label}: missing")]
        scan = bool(found.get("imageScanningConfiguration", {}).get("scanOnPush"))
        kept = policy is not None and same_json(policy, lifecycle_policy())
        return [
            Check(
                scan and kept,
                f"{self.label}: exists; scan on push: {'yes' if scan else 'NO'}; keeps the last "
                f"{settings.ECR_KEEP_IMAGES} images: {'yes' if kept else 'NO'}",
            )
        ]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        if self._current()[0] is None:
            return "absent"
        # Its images are what a rollback deploys: kept unless the data goes too.
        if not delete_data:
            return "kept with its images (pass --delete-data to delete the repository)"
        client("ecr").delete_repository(repositoryName=self.name, force=True)
        return "deleted"


# --- The cluster ---------------------------------------------------------------------


class Cluster(Resource):
    kind = "ECS cluster"

    @property
    def name(self) -> str:
        return cluster_name()

    def _active(self) -> bool:
        found = client("ecs").describe_clusters(clusters=[self.name])["clusters"]
        return any(c["status"] == "ACTIVE" for c in found)

    def plan(self, ctx: Context) -> Plan:
        return Plan(Action.UNCHANGED if self._active() else Action.CREATE)

    def apply(self, ctx: Context, plan: Plan) -> None:
        client("ecs").create_cluster(
            clusterName=self.name,
            capacityProviders=["FARGATE"],
            tags=[{"key": k, "value": v} for k, v in TAGS.items()],
        )

    def verify(self, ctx: Context) -> list[Check]:
        active = self._active()
        return [Check(active, f"{self.label}: {'ACTIVE' if active else 'missing'}")]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        if not self._active():
            return "absent"
        client("ecs").delete_cluster(cluster=self.name)
        return "deleted"


# --- Task definitions ----------------------------------------------------------------


def copied_environment() -> list[dict[str, str]]:
    """ECS_ENVIRONMENT's variables, with the values they have where provision_aws runs."""
    secret = sorted(set(settings.ECS_ENVIRONMENT) & set(SECRET_KEYS))
    if secret:
        raise ProvisionError(
            f"ECS_ENVIRONMENT names {', '.join(secret)}: secrets come from {app_secret_name()} "
            "in Secrets Manager, never from the task's plain environment"
        )
    fixed = {
        "AWS_REGION": settings.AWS_REGION,
        "AWS_RESOURCE_PREFIX": settings.AWS_RESOURCE_PREFIX,
        "WEB_BIND": f"0.0.0.0:{WEB_PORT}",
    }
    copied = {name: os.environ.get(name, "") for name in settings.ECS_ENVIRONMENT}
    return [{"name": k, "value": v} for k, v in sorted({**copied, **fixed}.items())]


def app_secret_arn() -> str:
    sm = client("secretsmanager")
    found = try_get(
        lambda: sm.describe_secret(SecretId=app_secret_name()), "ResourceNotFoundException"
    )
    if found is None or found.get("DeletedDate"):
        raise ProvisionError(
            f"the secret {app_secret_name()} is missing: create it in Secrets Manager first, "
            f"a JSON object with the keys {', '.join(SECRET_KEYS)} (README: Deploy to AWS)"
        )
    return str(found["ARN"])


def container_definition(process: str, image: str, secret_arn: str) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": process,
        "image": image,
        "essential": True,
        "command": procfile_commands()[process],
        # The container may use the whole task.
        "memory": settings.ECS_MEMORY,
        "environment": copied_environment(),
        # The JSON key of the secret, by reference: ECS reads it when the task starts.
        "secrets": [
            {"name": key, "valueFrom": f"{secret_arn}:{key}::"} for key in sorted(SECRET_KEYS)
        ],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group(process),
                "awslogs-region": settings.AWS_REGION,
                "awslogs-stream-prefix": process,
            },
        },
    }
    if process == "web":
        container["portMappings"] = [
            {"containerPort": WEB_PORT, "hostPort": WEB_PORT, "protocol": "tcp"}
        ]
        container["healthCheck"] = {
            "command": ["CMD-SHELL", f"curl -fsS http://127.0.0.1:{WEB_PORT}/readyz/ || exit 1"],
            "interval": 30,
            "timeout": 5,
            "retries": 3,
            "startPeriod": 60,
        }
    return container


def task_definition(ctx: Context, process: str, image: str, secret_arn: str) -> dict[str, Any]:
    """RegisterTaskDefinition's arguments for a process."""
    return {
        "family": family(process),
        "taskRoleArn": iam.role_arn(ctx, iam.PORTAL_ROLE),
        "executionRoleArn": iam.role_arn(ctx, EXECUTION_ROLE),
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": str(settings.ECS_CPU),
        "memory": str(settings.ECS_MEMORY),
        "containerDefinitions": [container_definition(process, image, secret_arn)],
    }


def registered_fields(definition: dict[str, Any], like: dict[str, Any]) -> dict[str, Any]:
    """definition cut down to what `like` sets: AWS adds defaults to what it stores."""
    cut = {}
    for key, wanted in like.items():
        have = definition.get(key)
        if key == "containerDefinitions":
            have = [{k: c.get(k) for k in w} for c, w in zip(have or [], wanted, strict=False)]
        cut[key] = have
    return cut


def latest_definition(process: str) -> dict[str, Any] | None:
    ecs = client("ecs")
    found = try_get(
        lambda: ecs.describe_task_definition(taskDefinition=family(process)),
        "ClientException",
    )
    definition = found and found["taskDefinition"]
    return definition if definition and definition.get("status") == "ACTIVE" else None


class TaskDefinition(Resource):
    """A process's task definition; a change registers a new revision of the family.

    The image is deploy_aws's: provisioning keeps whichever the latest revision runs.
    """

    kind = "ECS task definition"

    def __init__(self, process: str) -> None:
        self.process = process

    @property
    def name(self) -> str:
        return family(self.process)

    def _desired(self, ctx: Context, current: dict[str, Any] | None) -> dict[str, Any]:
        image = (
            current["containerDefinitions"][0]["image"]
            if current
            else image_uri(ctx, UNDEPLOYED_TAG)
        )
        return task_definition(ctx, self.process, image, app_secret_arn())

    def plan(self, ctx: Context) -> Plan:
        current = latest_definition(self.process)
        desired = self._desired(ctx, current)
        if current is None:
            return Plan(Action.CREATE, current=desired)
        have = registered_fields(current, desired)
        changes = [
            Change(key, "differs", "new revision")
            for key in desired
            if not same_json(have[key], desired[key])
        ]
        return Plan(Action.UPDATE if changes else Action.UNCHANGED, changes, current=desired)

    def apply(self, ctx: Context, plan: Plan) -> None:
        client("ecs").register_task_definition(
            **plan.current, tags=[{"key": k, "value": v} for k, v in TAGS.items()]
        )

    def verify(self, ctx: Context) -> list[Check]:
        current = latest_definition(self.process)
        if current is None:
            return [Check(False, f"{self.label}: missing")]
        desired = self._desired(ctx, current)
        as_planned = same_json(registered_fields(current, desired), desired)
        image = current["containerDefinitions"][0]["image"].rsplit(":", 1)[-1]
        return [
            Check(
                as_planned,
                f"{self.label}: revision {current['revision']}, image {image}; "
                f"as provisioned: {'yes' if as_planned else 'NO'}",
            )
        ]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        ecs = client("ecs")
        arns = [
            arn
            for page in ecs.get_paginator("list_task_definitions").paginate(
                familyPrefix=self.name, status="ACTIVE"
            )
            for arn in page["taskDefinitionArns"]
            if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == self.name
        ]
        for arn in arns:
            ecs.deregister_task_definition(taskDefinition=arn)
        return f"{len(arns)} revision(s) deregistered" if arns else "absent"


# --- Services ------------------------------------------------------------------------


def deployment_configuration(process: str) -> dict[str, Any]:
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    if process == "beat":
        # Two beats would send every scheduled task twice: the old one stops first.
        return {"minimumHealthyPercent": 0, "maximumPercent": 100, **breaker}
    return {"minimumHealthyPercent": 100, "maximumPercent": 200, **breaker}


def desired_count(process: str) -> int:
    return {"web": settings.ECS_WEB_COUNT, "worker": settings.ECS_WORKER_COUNT, "beat": 1}[process]


def load_balancers(process: str) -> list[dict[str, Any]]:
    if process != "web":
        return []
    return [
        {
            "targetGroupArn": settings.ECS_TARGET_GROUP_ARN,
            "containerName": "web",
            "containerPort": WEB_PORT,
        }
    ]


def describe_service(process: str) -> dict[str, Any] | None:
    ecs = client("ecs")
    found = try_get(
        lambda: ecs.describe_services(cluster=cluster_name(), services=[family(process)]),
        "ClusterNotFoundException",
    )
    return next((s for s in (found or {}).get("services", []) if s["status"] == "ACTIVE"), None)


class Service(Resource):
    """A process's service. Created with no task running: deploy_aws sets the count."""

    kind = "ECS service"

    def __init__(self, process: str) -> None:
        self.process = process

    @property
    def name(self) -> str:
        return family(self.process)

    def _desired(self) -> dict[str, Any]:
        return {
            "deploymentConfiguration": deployment_configuration(self.process),
            "networkConfiguration": network_configuration(),
            "loadBalancers": load_balancers(self.process),
        }

    def _differences(self, current: dict[str, Any]) -> list[Change]:
        desired = self._desired()
        return [
            Change(key, "differs", "updated")
            for key in desired
            if not same_json(registered_fields(current, {key: desired[key]})[key], desired[key])
        ]

    def plan(self, ctx: Context) -> Plan:
        current = describe_service(self.process)
        if current is None:
            return Plan(Action.CREATE)
        changes = self._differences(current)
        return Plan(Action.UPDATE if changes else Action.UNCHANGED, changes)

    def apply(self, ctx: Context, plan: Plan) -> None:
        ecs = client("ecs")
        desired = self._desired()
        if plan.action is Action.CREATE:
            ecs.create_service(
                cluster=cluster_name(),
                serviceName=self.name,
                taskDefinition=self.name,
                desiredCount=0,
                launchType="FARGATE",
                propagateTags="SERVICE",
                tags=[{"key": k, "value": v} for k, v in TAGS.items()],
                **desired,
                **({"healthCheckGracePeriodSeconds": 60} if self.process == "web" else {}),
            )
            return
        changed = {c.field for c in plan.changes}
        ecs.update_service(
            cluster=cluster_name(),
            service=self.name,
            **{k: v for k, v in desired.items() if k in changed},
        )

    def verify(self, ctx: Context) -> list[Check]:
        current = describe_service(self.process)
        if current is None:
            return [Check(False, f"{self.label}: missing")]
        changes = self._differences(current)
        differs = "; ".join(c.field for c in changes)
        return [
            Check(
                not changes,
                f"{self.label}: {current['runningCount']}/{current['desiredCount']} running; "
                + (f"differs from settings: {differs}" if changes else "as provisioned"),
            )
        ]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        if describe_service(self.process) is None:
            return "absent"
        ecs = client("ecs")
        ecs.delete_service(cluster=cluster_name(), service=self.name, force=True)
        # The cluster cannot go while a service is still draining its tasks.
        ecs.get_waiter("services_inactive").wait(
            cluster=cluster_name(), services=[self.name], WaiterConfig={"Delay": 5}
        )
        return "deleted"


# --- What the operator brings --------------------------------------------------------


def _exists(call: Callable[[], Any], *missing: str) -> bool:
    return try_get(call, *missing) is not None


class OperatorResources(Resource):
    """The network, target group and secret the hosting uses but does not create."""

    kind = "operator's"

    @property
    def name(self) -> str:
        return "network, target group and app secret"

    def _missing_settings(self) -> list[str]:
        wanted = {
            "ECS_SUBNETS": settings.ECS_SUBNETS,
            "ECS_SECURITY_GROUPS": settings.ECS_SECURITY_GROUPS,
            "ECS_TARGET_GROUP_ARN": settings.ECS_TARGET_GROUP_ARN,
        }
        return [name for name, value in wanted.items() if not value]

    def plan(self, ctx: Context) -> Plan:
        missing = self._missing_settings()
        if missing:
            raise ProvisionError(
                f"{self.label}: DEPLOY_TARGET=ecs needs {', '.join(missing)} "
                "(README: Deploy to AWS)"
            )
        app_secret_arn()
        return Plan(Action.UNCHANGED, quiet=True)

    def apply(self, ctx: Context, plan: Plan) -> None:
        """Nothing to create: these are the operator's."""

    def verify(self, ctx: Context) -> list[Check]:
        missing = self._missing_settings()
        if missing:
            return [Check(False, f"{self.label}: {', '.join(missing)} not set")]
        ec2, elb, sm = client("ec2"), client("elbv2"), client("secretsmanager")
        checks = []
        for subnet in settings.ECS_SUBNETS:
            found = _exists(
                lambda s=subnet: ec2.describe_subnets(SubnetIds=[s]), "InvalidSubnetID.NotFound"
            )
            checks.append(Check(found, f"subnet {subnet}: {'exists' if found else 'missing'}"))
        for group in settings.ECS_SECURITY_GROUPS:
            found = _exists(
                lambda g=group: ec2.describe_security_groups(GroupIds=[g]),
                "InvalidGroup.NotFound",
            )
            checks.append(
                Check(found, f"security group {group}: {'exists' if found else 'missing'}")
            )
        checks.append(self._target_group(elb))
        checks.append(self._secret(sm))
        return checks

    def _target_group(self, elb: Any) -> Check:
        arn = settings.ECS_TARGET_GROUP_ARN
        found = try_get(
            lambda: elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0],
            "TargetGroupNotFound",
        )
        if found is None:
            return Check(False, f"target group {arn}: missing")
        problems = []
        if found.get("TargetType") != "ip":
            problems.append(f"target type {found.get('TargetType')} (Fargate needs ip)")
        if found.get("Port") != WEB_PORT:
            problems.append(f"port {found.get('Port')} (the container listens on {WEB_PORT})")
        if found.get("HealthCheckPath") != "/readyz/":
            problems.append(f"health check path {found.get('HealthCheckPath')} (use /readyz/)")
        detail = "; ".join(problems) or "ip targets on 8000, health check /readyz/"
        return Check(not problems, f"target group {found['TargetGroupName']}: {detail}")

    def _secret(self, sm: Any) -> Check:
        label = f"secret {app_secret_name()}"
        value = try_get(
            lambda: sm.get_secret_value(SecretId=app_secret_name()), "ResourceNotFoundException"
        )
        if value is None:
            return Check(False, f"{label}: missing")
        try:
            keys = set(json.loads(value.get("SecretString") or "{}"))
        except (ValueError, TypeError):
            return Check(False, f"{label}: not a JSON object")
        missing = [k for k in SECRET_KEYS if k not in keys]
        if missing:
            return Check(False, f"{label}: lacks {', '.join(missing)} (a task would not start)")
        # Key names only: a value is never printed.
        return Check(True, f"{label}: holds {', '.join(SECRET_KEYS)}")

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        return "kept (the operator's)"


def resources() -> list[Resource]:
    return [
        OperatorResources(),
        iam.Role(EXECUTION_ROLE, ["ecs-tasks.amazonaws.com"], execution_policy),
        *(logs.LogGroup(log_group(p)) for p in PROCESSES),
        Repository(),
        Cluster(),
        *(TaskDefinition(p) for p in PROCESSES),
        *(Service(p) for p in PROCESSES),
    ]
