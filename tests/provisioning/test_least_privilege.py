"""The portal's IAM policies, read back from IAM: only what the portal needs."""

from smsbot.aws import client
from tests.provisioning.conftest import provision

ACCOUNT = "123456789012"
TABLE_ARNS = {
    f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}"
    for name in ("BotSubscribers", "BotConversations", "BotAnalytics")
}


def statements(role: str) -> list[dict]:
    iam = client("iam")
    document = iam.get_role_policy(RoleName=role, PolicyName=role)["PolicyDocument"]
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == [role]
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    return document["Statement"]


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_portal_role_is_least_privilege(aws):
    provision()
    found = statements("smsbot-portal")
    by_action = {}
    for statement in found:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"wildcard action {action}"
            by_action[action] = statement

    assert set(by_action) == {
        "sns:Publish",
        "sns:CheckIfPhoneNumberIsOptedOut",
        "sns:ListPhoneNumbersOptedOut",
        "sns:OptInPhoneNumber",
        "sns:ConfirmSubscription",
        "sns:GetSMSSandboxAccountStatus",
        "sns:ListSMSSandboxPhoneNumbers",
        "sms-voice:DescribeAccountAttributes",
        "sms-voice:DescribeSpendLimits",
        "sms-voice:DescribeVerifiedDestinationNumbers",
        "sms-voice:SendTextMessage",
        "sms-voice:DescribePhoneNumbers",
        "sms-voice:ListPoolOriginationIdentities",
        "sms-voice:PutOptedOutNumber",
        "sms-voice:DeleteOptedOutNumber",
        "sms-voice:DescribeOptedOutNumbers",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:DescribeTable",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:FilterLogEvents",
        "cloudwatch:PutMetricData",
        "secretsmanager:GetSecretValue",
    }
    for action, statement in by_action.items():
        if action.startswith("dynamodb:"):
            assert set(as_list(statement["Resource"])) == TABLE_ARNS
        if action == "logs:FilterLogEvents":
            # SNS's two SMS delivery log groups, read for statuses and prices.
            sns_groups = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:sns/us-east-1/{ACCOUNT}"
            assert as_list(statement["Resource"]) == [
                f"{sns_groups}/DirectPublishToPhoneNumber:*",
                f"{sns_groups}/DirectPublishToPhoneNumber/Failure:*",
            ]
        elif action.startswith("logs:"):
            assert as_list(statement["Resource"]) == [
                f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/smsbot/portal:*"
            ]
    # "*" only where IAM has no resource ARN for the action.
    star = {a for a, s in by_action.items() if "*" in as_list(s["Resource"])}
    assert star == {
        "sns:Publish",
        "sns:CheckIfPhoneNumberIsOptedOut",
        "sns:ListPhoneNumbersOptedOut",
        "sns:OptInPhoneNumber",
        "sns:GetSMSSandboxAccountStatus",
        "sns:ListSMSSandboxPhoneNumbers",
        "sms-voice:DescribeAccountAttributes",
        "sms-voice:DescribeSpendLimits",
        "sms-voice:DescribeVerifiedDestinationNumbers",
        "cloudwatch:PutMetricData",
    }
    # The worker confirms the inbound and events topics' HTTPS subscriptions, those alone.
    assert by_action["sns:ConfirmSubscription"]["Resource"] == [
        f"arn:aws:sns:us-east-1:{ACCOUNT}:bot-sms-inbound",
        f"arn:aws:sns:us-east-1:{ACCOUNT}:bot-sms-events",
    ]
    # End User Messaging SMS sends: this account's, this region's, nobody else's.
    assert by_action["sms-voice:SendTextMessage"]["Resource"] == (
        f"arn:aws:sms-voice:us-east-1:{ACCOUNT}:*"
    )
    # The worker keeps the End User Messaging SMS opt-out list in step: that list alone.
    for action in ("PutOptedOutNumber", "DeleteOptedOutNumber", "DescribeOptedOutNumbers"):
        assert by_action[f"sms-voice:{action}"]["Resource"] == (
            f"arn:aws:sms-voice:us-east-1:{ACCOUNT}:opt-out-list/Default"
        )
    assert by_action["cloudwatch:PutMetricData"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "SMSBot"}
    }
    assert by_action["secretsmanager:GetSecretValue"]["Resource"] == (
        f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:smsbot/twilio-??????"
    )


def test_sns_logging_role_trusts_sns_and_may_only_write_logs(aws):
    provision()
    role = client("iam").get_role(RoleName="sns-sms-logs")["Role"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["sns.amazonaws.com"]}
    assert trust["Action"] == "sts:AssumeRole"

    [statement] = statements("sns-sms-logs")
    assert sorted(statement["Action"]) == [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]
    for resource in as_list(statement["Resource"]):
        assert resource.startswith(f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:")
        assert resource != f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*"


def test_policy_tracks_prefixed_table_names(aws, settings):
    settings.AWS_RESOURCE_PREFIX = "staging-"
    settings.DYNAMODB_ANALYTICS_TABLE = "Metrics"
    provision()
    [tables] = [s for s in statements("staging-smsbot-portal") if s["Sid"] == "MirrorTables"]
    assert f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/staging-Metrics" in tables["Resource"]
    assert client("dynamodb").describe_table(TableName="staging-Metrics")["Table"]["KeySchema"]


def test_email_adds_exactly_what_sending_mail_needs(aws, settings):
    """With e-mail on: SendEmail from the one identity through the one configuration set,
    GetAccount for the send rate, and confirming the feedback topic's subscription."""
    settings.EMAIL_FROM = "Daily Word <daily@example.com>"
    settings.EMAIL_POSTAL_ADDRESS = "1 Example Plaza, Chicago, IL 60601"
    provision()
    by_sid = {s["Sid"]: s for s in statements("smsbot-portal")}
    assert by_sid["SendEmail"]["Action"] == "ses:SendEmail"
    assert by_sid["SendEmail"]["Resource"] == [
        f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/example.com",
        f"arn:aws:ses:us-east-1:{ACCOUNT}:configuration-set/smsbot-email",
    ]
    # GetAccount has no resource ARN in IAM.
    assert (by_sid["ReadEmailSendRate"]["Action"], by_sid["ReadEmailSendRate"]["Resource"]) == (
        "ses:GetAccount",
        "*",
    )
    assert by_sid["ConfirmInboundSubscription"]["Resource"][-1] == (
        f"arn:aws:sns:us-east-1:{ACCOUNT}:smsbot-ses-feedback"
    )
    ses_actions = {a for s in by_sid.values() for a in as_list(s["Action"]) if a.startswith("ses:")}
    assert ses_actions == {"ses:SendEmail", "ses:GetAccount"}
