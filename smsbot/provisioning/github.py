"""GitHub Actions' way in: the OIDC provider and the deploy role it may assume.

The deploy workflow (.github/workflows/deploy.yml) gets short-lived credentials
for the role from GitHub's token, on main only; no AWS key is stored in GitHub.
The role may do what a deploy does and nothing else: push to and pull from the
portal's repository, register task definitions, run the migration, update and watch the
three services, pass the two task roles, read their logs.
"""

from __future__ import annotations

from django.conf import settings

from smsbot.provisioning import ecs, iam
from smsbot.provisioning.core import (
    Action,
    Change,
    Check,
    Context,
    Plan,
    ProvisionError,
    Resource,
    client,
    try_get,
)

OIDC_HOST = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
# IAM no longer checks the thumbprint of GitHub's provider, but the API needs one.
THUMBPRINT = "6938fd4d98bab03faadb97b34396831e3780aea1"
DEPLOY_ROLE = "smsbot-github-deploy"
DEPLOY_BRANCH = "main"
# Push the image the job built, and pull it back to run deploy_aws inside it: for a
# rollback the runner never built that image, so docker pull downloads its layers.
ECR_IMAGE_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
]


def provider_arn(ctx: Context) -> str:
    return ctx.arn("iam", f"oidc-provider/{OIDC_HOST}", regional=False)


def repository() -> str:
    repo = settings.DEPLOY_GITHUB_REPO
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ProvisionError(
            f"DEPLOY_GITHUB_REPO must name the GitHub repository as owner/name, not {repo!r}"
        )
    return repo


def deploy_trust(ctx: Context) -> iam.PolicyDocument:
    # Both the push-triggered run (workflow_run of CI) and a manual dispatch for a
    # rollback run on main: their token's subject is the main branch's ref.
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn(ctx)},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{OIDC_HOST}:aud": AUDIENCE,
                        f"{OIDC_HOST}:sub": f"repo:{repository()}:ref:refs/heads/{DEPLOY_BRANCH}",
                    }
                },
            }
        ],
    }


def deploy_policy(ctx: Context) -> iam.PolicyDocument:
    cluster = ecs.cluster_name()
    return {
        "Version": "2012-10-17",
        "Statement": [
            ecs.ECR_LOGIN,
            {
                "Sid": "PushAndPullImage",
                "Effect": "Allow",
                "Action": ECR_IMAGE_ACTIONS,
                "Resource": ecs.repository_arn(ctx),
            },
            {
                # Neither takes a resource ARN in IAM.
                "Sid": "TaskDefinitions",
                "Effect": "Allow",
                "Action": ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"],
                "Resource": "*",
            },
            {
                "Sid": "Services",
                "Effect": "Allow",
                "Action": ["ecs:UpdateService", "ecs:DescribeServices"],
                "Resource": [ecs.service_arn(ctx, p) for p in ecs.PROCESSES],
            },
            {
                # The migration: a one-off task of the web family, in this cluster only.
                "Sid": "RunMigration",
                "Effect": "Allow",
                "Action": "ecs:RunTask",
                "Resource": ctx.arn("ecs", f"task-definition/{ecs.family('web')}:*"),
                "Condition": {"ArnEquals": {"ecs:cluster": ecs.cluster_arn(ctx)}},
            },
            {
                "Sid": "WatchMigration",
                "Effect": "Allow",
                "Action": ["ecs:DescribeTasks", "ecs:StopTask"],
                "Resource": ctx.arn("ecs", f"task/{cluster}/*"),
            },
            {
                "Sid": "PassTaskRoles",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": [
                    iam.role_arn(ctx, iam.PORTAL_ROLE),
                    iam.role_arn(ctx, ecs.EXECUTION_ROLE),
                ],
                "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            },
            {
                "Sid": "ReadLogs",
                "Effect": "Allow",
                "Action": ["logs:GetLogEvents", "logs:FilterLogEvents"],
                "Resource": [
                    ctx.arn("logs", f"log-group:{ecs.log_group(p)}:*") for p in ecs.PROCESSES
                ],
            },
        ],
    }


class DeployRole(iam.Role):
    def __init__(self) -> None:
        super().__init__(DEPLOY_ROLE, [], deploy_policy)

    def trust(self, ctx: Context) -> iam.PolicyDocument:
        return deploy_trust(ctx)

    @property
    def trusted_by(self) -> str:
        return f"GitHub Actions of {settings.DEPLOY_GITHUB_REPO} on {DEPLOY_BRANCH}"


class OidcProvider(Resource):
    kind = "IAM OIDC provider"

    @property
    def name(self) -> str:
        return OIDC_HOST

    def _current(self, ctx: Context) -> dict | None:
        iam_client = client("iam")
        return try_get(
            lambda: iam_client.get_open_id_connect_provider(
                OpenIDConnectProviderArn=provider_arn(ctx)
            ),
            "NoSuchEntity",
        )

    def plan(self, ctx: Context) -> Plan:
        found = self._current(ctx)
        if found is None:
            return Plan(Action.CREATE)
        if AUDIENCE not in found.get("ClientIDList", []):
            return Plan(Action.UPDATE, [Change("audience", "missing", AUDIENCE)])
        return Plan(Action.UNCHANGED)

    def apply(self, ctx: Context, plan: Plan) -> None:
        iam_client = client("iam")
        if plan.action is Action.CREATE:
            iam_client.create_open_id_connect_provider(
                Url=f"https://{OIDC_HOST}",
                ClientIDList=[AUDIENCE],
                ThumbprintList=[THUMBPRINT],
                Tags=[{"Key": "Project", "Value": "SMSBot"}],
            )
        else:
            iam_client.add_client_id_to_open_id_connect_provider(
                OpenIDConnectProviderArn=provider_arn(ctx), ClientID=AUDIENCE
            )

    def verify(self, ctx: Context) -> list[Check]:
        found = self._current(ctx)
        if found is None:
            return [Check(False, f"{self.label}: missing")]
        ok = AUDIENCE in found.get("ClientIDList", [])
        return [Check(ok, f"{self.label}: exists; audience {AUDIENCE}: {'yes' if ok else 'NO'}")]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        found = self._current(ctx)
        if found is None:
            return "absent"
        # An account has one provider per host, maybe there before the portal and
        # used by other workflows: only the one provision_aws created goes.
        if {"Key": "Project", "Value": "SMSBot"} not in found.get("Tags", []):
            return "kept (not created by provision_aws; other workflows may use it)"
        client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn(ctx))
        return "deleted"


def resources(*, all_of_them: bool = False) -> list[Resource]:
    """The provider and role when DEPLOY_GITHUB_REPO names a repository (or all_of_them)."""
    if not (settings.DEPLOY_GITHUB_REPO or all_of_them):
        return []
    return [OidcProvider(), DeployRole()]
