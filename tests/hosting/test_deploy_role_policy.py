"""The GitHub deploy role, read back from IAM: only what deploy.yml needs, only from main."""

import json
from fnmatch import fnmatchcase

from smsbot.aws import client
from tests.hosting.conftest import SHA
from tests.provisioning.conftest import run

ACCOUNT = "123456789012"
PREFIX = f"arn:aws:ecs:us-east-1:{ACCOUNT}"


def as_list(value):
    return [value] if isinstance(value, str) else value


def test_deploy_role_allows_only_the_deploy(hosting):
    iam = client("iam")
    role = iam.get_role(RoleName="smsbot-github-deploy")["Role"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Principal"] == {
        "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    }
    assert trust["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": (
                "repo:example-org/smsbot:ref:refs/heads/main"
            ),
        }
    }
    assert (
        iam.list_attached_role_policies(RoleName="smsbot-github-deploy")["AttachedPolicies"] == []
    )
    document = iam.get_role_policy(
        RoleName="smsbot-github-deploy", PolicyName="smsbot-github-deploy"
    )["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    allowed = {}
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            assert "*" not in action
            allowed[action] = statement
    assert set(allowed) == {
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:CompleteLayerUpload",
        "ecr:DescribeImages",
        "ecr:GetDownloadUrlForLayer",
        "ecr:InitiateLayerUpload",
        "ecr:PutImage",
        "ecr:UploadLayerPart",
        "ecs:RegisterTaskDefinition",
        "ecs:DescribeTaskDefinition",
        "ecs:UpdateService",
        "ecs:DescribeServices",
        "ecs:RunTask",
        "ecs:DescribeTasks",
        "ecs:StopTask",
        "iam:PassRole",
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
    }
    star = {a for a, s in allowed.items() if "*" in as_list(s["Resource"])}
    # Only where IAM has no resource ARN for the action.
    assert star == {
        "ecr:GetAuthorizationToken",
        "ecs:RegisterTaskDefinition",
        "ecs:DescribeTaskDefinition",
    }
    assert as_list(allowed["ecr:PutImage"]["Resource"]) == [
        f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/smsbot"
    ]
    assert set(as_list(allowed["ecs:UpdateService"]["Resource"])) == {
        f"{PREFIX}:service/smsbot/smsbot-{p}" for p in ("web", "worker", "beat")
    }
    assert as_list(allowed["ecs:RunTask"]["Resource"]) == [f"{PREFIX}:task-definition/smsbot-web:*"]
    assert allowed["ecs:RunTask"]["Condition"] == {
        "ArnEquals": {"ecs:cluster": f"{PREFIX}:cluster/smsbot"}
    }
    assert as_list(allowed["ecs:StopTask"]["Resource"]) == [f"{PREFIX}:task/smsbot/*"]
    assert set(as_list(allowed["iam:PassRole"]["Resource"])) == {
        f"arn:aws:iam::{ACCOUNT}:role/smsbot-portal",
        f"arn:aws:iam::{ACCOUNT}:role/smsbot-task-execution",
    }
    assert allowed["iam:PassRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    assert set(as_list(allowed["logs:GetLogEvents"]["Resource"])) == {
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/smsbot/ecs/{p}:*"
        for p in ("web", "worker", "beat")
    }


def test_execution_role_pulls_logs_and_reads_only_the_app_secret(hosting):
    iam = client("iam")
    document = iam.get_role_policy(
        RoleName="smsbot-task-execution", PolicyName="smsbot-task-execution"
    )["PolicyDocument"]
    actions = {
        action: statement
        for statement in document["Statement"]
        for action in as_list(statement["Action"])
    }
    assert set(actions) == {
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "secretsmanager:GetSecretValue",
    }
    assert actions["secretsmanager:GetSecretValue"]["Resource"] == (
        f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:smsbot/app-??????"
    )


def deploy_role_allows(
    document: dict, action: str, resource: str, context: dict[str, str] | None = None
) -> bool:
    """IAM's answer for one allow-only policy: an action on a resource, with condition keys.

    A statement counts when its action and one of its resources match (IAM's * and ?)
    and each of its conditions holds for `context`; a key it lacks fails the statement.
    """
    context = context or {}
    for statement in document["Statement"]:
        if action not in as_list(statement["Action"]):
            continue
        if not any(fnmatchcase(resource, pattern) for pattern in as_list(statement["Resource"])):
            continue
        conditions = statement.get("Condition", {})
        if all(
            key in context and context[key] in as_list(wanted)
            for operator in conditions.values()
            for key, wanted in operator.items()
        ):
            return True
    return False


def ecs_resource(operation: str, request: dict) -> list[str]:
    """The ARNs IAM authorizes an ECS call on (Service Authorization Reference)."""
    if operation in ("RegisterTaskDefinition", "DescribeTaskDefinition"):
        return ["*"]
    if operation in ("DescribeServices", "UpdateService"):
        names = request.get("services") or [request["service"]]
        return [f"{PREFIX}:service/{request['cluster']}/{name}" for name in names]
    if operation == "RunTask":
        return [request["taskDefinition"]]
    if operation in ("DescribeTasks", "StopTask"):
        return request.get("tasks") or [request["task"]]
    raise AssertionError(f"deploy_aws called ecs:{operation}, which this test does not know")


def test_the_deploy_role_may_make_every_call_of_a_deploy(hosting):
    """What deploy.yml does with the role, call by call: the ECR login, push and pull of
    its steps, and every ECS call deploy_aws makes (recorded in front of moto)."""
    document = client("iam").get_role_policy(
        RoleName="smsbot-github-deploy", PolicyName="smsbot-github-deploy"
    )["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)

    repository = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/smsbot"
    assert deploy_role_allows(document, "ecr:GetAuthorizationToken", "*")
    for action in (
        "ecr:DescribeImages",  # is the commit's image there already?
        # docker push
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
        # docker pull, which downloads every layer for a rollback's image
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ):
        assert deploy_role_allows(document, action, repository), action

    before = len(hosting.calls)
    result = run("deploy_aws", "--image", SHA)
    assert result.error is None, result.out
    calls = hosting.calls[before:]
    assert {op for op, _ in calls} >= {"RegisterTaskDefinition", "RunTask", "UpdateService"}
    cluster = f"{PREFIX}:cluster/smsbot"
    for operation, request in calls:
        for resource in ecs_resource(operation, request):
            assert deploy_role_allows(
                document, f"ecs:{operation}", resource, {"ecs:cluster": cluster}
            ), (operation, resource)
        if request.get("tags"):
            # Tags given at creation are authorized as ecs:TagResource.
            assert deploy_role_allows(
                document, "ecs:TagResource", "*", {"ecs:CreateAction": operation}
            ), f"{operation} with tags"
        for key in ("taskRoleArn", "executionRoleArn"):
            if request.get(key):
                assert deploy_role_allows(
                    document,
                    "iam:PassRole",
                    request[key],
                    {"iam:PassedToService": "ecs-tasks.amazonaws.com"},
                ), request[key]
