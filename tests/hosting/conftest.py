"""Hosting on ECS against moto: the operator's network, target group and secret, and a
pass-through that says how tasks and deployments end (tests/fakes/ecs_outcomes.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from smsbot.aws import client
from smsbot.provisioning.ecs import SECRET_KEYS
from tests.fakes.ecs_outcomes import EcsOutcomes
from tests.provisioning import conftest as provisioning

# The account as provision_aws sees it (moto behind the SNS sandbox, End User Messaging SMS
# from its fake server, SES's account, the number people text): the hosting is provisioned
# in that same account, not in bare moto, which answers no sms-voice call.
aws = provisioning.aws
sns_sandbox = provisioning.sns_sandbox
ses_account = provisioning.ses_account


@pytest.fixture
def operator_network(aws: str, settings: Any) -> dict[str, str]:
    """What the operator creates first: subnets, a security group, a target group, the secret."""
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24")["Subnet"]["SubnetId"]
        for n in (1, 2)
    ]
    group = ec2.create_security_group(GroupName="smsbot", Description="portal", VpcId=vpc)
    target_group = client("elbv2").create_target_group(
        Name="smsbot-web",
        Protocol="HTTP",
        Port=8000,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath="/readyz/",
    )["TargetGroups"][0]["TargetGroupArn"]
    values = {key: f"value-of-{key.lower()}" for key in SECRET_KEYS}
    secret = client("secretsmanager").create_secret(
        Name="smsbot/app", SecretString=json.dumps(values)
    )["ARN"]
    settings.DEPLOY_TARGET = "ecs"
    settings.ECS_SUBNETS = subnets
    settings.ECS_SECURITY_GROUPS = [group["GroupId"]]
    settings.ECS_TARGET_GROUP_ARN = target_group
    settings.DEPLOY_GITHUB_REPO = "example-org/smsbot"
    return {"secret": secret, "target_group": target_group, "vpc": vpc}


@pytest.fixture
def ecs_outcomes(aws: str, settings: Any, monkeypatch: Any) -> Iterator[EcsOutcomes]:
    # moto 5.2.5's RunTask with awsvpc networking reads a private DNS name its network
    # interfaces lack (AttributeError); the server runs in this process, so it gets one.
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    monkeypatch.setattr(
        NetworkInterface, "private_dns_name", "ip-10-0-1-10.ec2.internal", raising=False
    )
    monkeypatch.setattr("smsbot.provisioning.deploy.POLL_SECONDS", 0.01)
    with EcsOutcomes(aws) as proxy:
        settings.AWS_ENDPOINT_URL = proxy.url
        yield proxy


# The commit whose image the deploy workflow pushed (the tests' deploy_aws --image).
SHA = "0123456789abcdef0123456789abcdef01234567"


def push_image(tag: str) -> None:
    """What docker push leaves in ECR: a manifest under the tag (moto stores no layers)."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 1,
            "digest": "sha256:" + "0" * 64,
        },
        "layers": [],
    }
    client("ecr").put_image(
        repositoryName="smsbot", imageManifest=json.dumps(manifest), imageTag=tag
    )


@pytest.fixture
def hosting(operator_network: dict[str, str], ecs_outcomes: EcsOutcomes) -> EcsOutcomes:
    """A provisioned account with DEPLOY_TARGET=ecs, behind the ECS pass-through, with
    the image of SHA pushed."""
    from tests.provisioning.conftest import provision

    provision()
    push_image(SHA)
    return ecs_outcomes
