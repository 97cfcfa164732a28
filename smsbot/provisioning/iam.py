"""IAM: the role SNS uses to log SMS delivery status, and the portal's own least-privilege role."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings

from smsbot.aws import resource_name
from smsbot.aws_names import (
    INBOUND_TOPIC,
    METRICS_NAMESPACE,
    SES_FEEDBACK_TOPIC,
    SMS_EVENTS_TOPIC,
    sns_sms_log_groups,
)
from smsbot.provisioning import logs
from smsbot.provisioning.core import (
    Action,
    Change,
    Check,
    Context,
    Plan,
    Resource,
    client,
    email_domain,
    same_json,
    ses_configuration_set_arn,
    ses_identity_arn,
    topic_arn,
    try_get,
)
from smsbot.secrets import twilio_secret_name

SNS_LOGS_ROLE = "sns-sms-logs"
PORTAL_ROLE = "smsbot-portal"
TABLE_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:DescribeTable",
]

PolicyDocument = dict[str, object]


def role_arn(ctx: Context, base_name: str) -> str:
    return ctx.arn("iam", f"role/{resource_name(base_name)}", regional=False)


def trust_policy(*services: str) -> PolicyDocument:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": sorted(services)},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def sns_logs_policy(ctx: Context) -> PolicyDocument:
    # SNS names its delivery-status log groups itself: sns/<region>/<account>/...
    sns_groups = f"log-group:sns/{ctx.region}/{ctx.account_id}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": ctx.arn("logs", sns_groups),
            }
        ],
    }


def table_names() -> list[str]:
    return [
        resource_name(settings.DYNAMODB_SUBSCRIBERS_TABLE),
        resource_name(settings.DYNAMODB_CONVERSATIONS_TABLE),
        resource_name(settings.DYNAMODB_ANALYTICS_TABLE),
    ]


def email_statements(ctx: Context) -> list[dict[str, object]]:
    """With e-mail on (EMAIL_FROM): SendEmail from the one identity through the one
    configuration set (SES authorizes a v2 SendEmail against both), and GetAccount for
    the send rate (messaging.providers.ses.quota), which has no resource ARN."""
    if not email_domain():
        return []
    return [
        {
            "Sid": "SendEmail",
            "Effect": "Allow",
            "Action": "ses:SendEmail",
            "Resource": [ses_identity_arn(ctx), ses_configuration_set_arn(ctx)],
        },
        {
            "Sid": "ReadEmailSendRate",
            "Effect": "Allow",
            "Action": "ses:GetAccount",
            "Resource": "*",
        },
    ]


def confirmed_topics(ctx: Context) -> list[str]:
    """The topics whose HTTPS subscriptions the worker confirms: the inbound and events
    topics, and with e-mail on the SES feedback topic."""
    topics = [INBOUND_TOPIC, SMS_EVENTS_TOPIC] + ([SES_FEEDBACK_TOPIC] if email_domain() else [])
    return [topic_arn(ctx, topic) for topic in topics]


def opt_out_list_arn(ctx: Context) -> str:
    """The End User Messaging SMS opt-out list the portal keeps (AWS_SMS_OPT_OUT_LIST)."""
    name = settings.AWS_SMS_OPT_OUT_LIST
    return name if name.startswith("arn:") else ctx.arn("sms-voice", f"opt-out-list/{name}")


def portal_policy(ctx: Context) -> PolicyDocument:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                # Publishing straight to a phone number and the opt-out lookups have
                # no resource ARN in IAM, so "*" is the narrowest resource possible.
                "Sid": "SendSms",
                "Effect": "Allow",
                "Action": [
                    "sns:Publish",
                    "sns:CheckIfPhoneNumberIsOptedOut",
                    "sns:ListPhoneNumbersOptedOut",
                    # A START taken to SNS's list (smsbot.opt_out_list), by the worker.
                    "sns:OptInPhoneNumber",
                ],
                "Resource": "*",
            },
            {
                # The End User Messaging SMS opt-out list the worker keeps in step with
                # the portal's STOPs and STARTs and reads in the daily reconcile: that
                # list alone (AWS_SMS_OPT_OUT_LIST, a name or an ARN).
                "Sid": "KeepOptOutListInStep",
                "Effect": "Allow",
                "Action": [
                    "sms-voice:PutOptedOutNumber",
                    "sms-voice:DeleteOptedOutNumber",
                    "sms-voice:DescribeOptedOutNumbers",
                ],
                "Resource": opt_out_list_arn(ctx),
            },
            {
                # The SMS sandbox and spend quota (smsbot.sms_account), for the send
                # guard and the dashboard: account-level reads with no resource ARN.
                "Sid": "ReadSmsAccountStanding",
                "Effect": "Allow",
                "Action": [
                    "sns:GetSMSSandboxAccountStatus",
                    "sns:ListSMSSandboxPhoneNumbers",
                    "sms-voice:DescribeAccountAttributes",
                    "sms-voice:DescribeSpendLimits",
                    "sms-voice:DescribeVerifiedDestinationNumbers",
                ],
                "Resource": "*",
            },
            {
                # SMS_PROVIDER=aws-sms: SendTextMessage from the account's numbers, pools
                # and sender IDs through its configuration set; and the numbers' MPS
                # (the send rate, SNS's too) and which numbers are the account's (a
                # reply leaves from the one texted): this account's End User Messaging
                # SMS in this region.
                "Sid": "SendEndUserMessagingSms",
                "Effect": "Allow",
                "Action": [
                    "sms-voice:SendTextMessage",
                    "sms-voice:DescribePhoneNumbers",
                    "sms-voice:ListPoolOriginationIdentities",
                ],
                "Resource": ctx.arn("sms-voice", "*"),
            },
            {
                # The worker confirms the HTTPS subscriptions of the portal's topics
                # when SNS first calls /webhooks/sns/ (or /webhooks/ses/).
                "Sid": "ConfirmInboundSubscription",
                "Effect": "Allow",
                "Action": "sns:ConfirmSubscription",
                "Resource": confirmed_topics(ctx),
            },
            *email_statements(ctx),
            {
                "Sid": "MirrorTables",
                "Effect": "Allow",
                "Action": TABLE_ACTIONS,
                "Resource": [ctx.arn("dynamodb", f"table/{name}") for name in table_names()],
            },
            {
                # SNS's SMS delivery logs: statuses and actual prices (fetch_sns_delivery).
                "Sid": "ReadSmsDeliveryLogs",
                "Effect": "Allow",
                "Action": "logs:FilterLogEvents",
                "Resource": [
                    ctx.arn("logs", f"log-group:{group}:*")
                    for group in sns_sms_log_groups(ctx.region, ctx.account_id)
                ],
            },
            {
                "Sid": "OwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": ctx.arn("logs", f"log-group:{logs.portal_log_group()}:*"),
            },
            {
                # PutMetricData has no resource ARN; the namespace condition is the limit.
                "Sid": "OwnMetrics",
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
            },
            {
                "Sid": "TwilioSecret",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                # Secrets Manager appends six random characters to every secret's ARN.
                "Resource": ctx.arn("secretsmanager", f"secret:{twilio_secret_name()}-??????"),
            },
        ],
    }


class Role(Resource):
    """A role, who may assume it, and its one inline policy (named like the role)."""

    kind = "IAM role"

    def __init__(
        self, base_name: str, services: list[str], policy: Callable[[Context], PolicyDocument]
    ) -> None:
        self.base_name, self.services, self.policy = base_name, services, policy

    @property
    def name(self) -> str:
        return resource_name(self.base_name)

    def trust(self, ctx: Context) -> PolicyDocument:
        return trust_policy(*self.services)

    @property
    def trusted_by(self) -> str:
        return ", ".join(sorted(self.services))

    def _current(self) -> tuple[PolicyDocument | None, PolicyDocument | None]:
        iam = client("iam")
        role = try_get(lambda: iam.get_role(RoleName=self.name)["Role"], "NoSuchEntity")
        if role is None:
            return None, None
        policy = try_get(
            lambda: iam.get_role_policy(RoleName=self.name, PolicyName=self.name),
            "NoSuchEntity",
        )
        return role["AssumeRolePolicyDocument"], policy and policy["PolicyDocument"]

    def plan(self, ctx: Context) -> Plan:
        trust, policy = self._current()
        if trust is None:
            return Plan(Action.CREATE)
        changes = []
        if not same_json(trust, self.trust(ctx)):
            changes.append(Change("trust", "differs", self.trusted_by))
        if policy is None or not same_json(policy, self.policy(ctx)):
            changes.append(
                Change("inline policy", "missing" if policy is None else "differs", "rewritten")
            )
        return Plan(Action.UPDATE if changes else Action.UNCHANGED, changes)

    def apply(self, ctx: Context, plan: Plan) -> None:
        iam = client("iam")
        trust = _dump(self.trust(ctx))
        if plan.action is Action.CREATE:
            iam.create_role(
                RoleName=self.name,
                AssumeRolePolicyDocument=trust,
                Description=f"smsbot: {self.base_name}",
                Tags=[{"Key": "Project", "Value": "SMSBot"}],
            )
        elif any(c.field == "trust" for c in plan.changes):
            iam.update_assume_role_policy(RoleName=self.name, PolicyDocument=trust)
        iam.put_role_policy(
            RoleName=self.name, PolicyName=self.name, PolicyDocument=_dump(self.policy(ctx))
        )

    def verify(self, ctx: Context) -> list[Check]:
        trust, policy = self._current()
        who = self.trusted_by
        if trust is None:
            return [Check(False, f"{self.label}: missing")]
        trusted = same_json(trust, self.trust(ctx))
        as_planned = policy is not None and same_json(policy, self.policy(ctx))
        return [
            Check(
                trusted and as_planned,
                f"{self.label}: exists; trusted by {who}: {'yes' if trusted else 'NO'}; "
                f"inline policy as provisioned: {'yes' if as_planned else 'NO'}",
            )
        ]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        iam = client("iam")
        if try_get(lambda: iam.get_role(RoleName=self.name), "NoSuchEntity") is None:
            return "absent"
        for policy_name in iam.list_role_policies(RoleName=self.name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=self.name, PolicyName=policy_name)
        iam.delete_role(RoleName=self.name)
        return "deleted"


def _dump(document: PolicyDocument) -> str:
    return json.dumps(document)


def resources() -> list[Resource]:
    return [
        Role(SNS_LOGS_ROLE, ["sns.amazonaws.com"], sns_logs_policy),
        Role(PORTAL_ROLE, ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"], portal_policy),
    ]
