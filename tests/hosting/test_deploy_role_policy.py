"""The GitHub deploy role, read back from IAM: only what deploy.yml needs, only from main."""

import json

from smsbot.aws import client

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
