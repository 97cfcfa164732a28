"""What provision_aws plans and creates: dry runs, drift, each resource family's settings."""

import json

import pytest

from smsbot.aws import client
from smsbot.provisioning.sns import not_public_reason
from tests.provisioning.conftest import provision, run


def test_dry_run_changes_nothing(aws, settings):
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC" + "0" * 32, "token-123"
    plan = provision("--dry-run", "--with-secrets")
    assert plan.out.startswith("Plan (dry run, nothing is changed)")
    assert plan.out.rstrip().endswith("Nothing was changed.")
    assert "create    DynamoDB table BotSubscribers" in plan.out
    assert "create    secret smsbot/twilio" in plan.out

    assert client("iam").list_roles()["Roles"] == []
    assert client("dynamodb").list_tables()["TableNames"] == []
    assert client("sns").list_topics()["Topics"] == []
    assert client("sns").get_sms_attributes()["attributes"] == {}
    assert client("logs").describe_log_groups()["logGroups"] == []
    assert client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert client("cloudwatch").list_dashboards()["DashboardEntries"] == []
    assert client("budgets").describe_budgets(AccountId="123456789012").get("Budgets", []) == []
    assert client("secretsmanager").list_secrets()["SecretList"] == []


def test_tables_are_on_demand_encrypted_recoverable_and_tagged(aws, settings):
    settings.AWS_ENVIRONMENT = "staging"
    provision()
    ddb = client("dynamodb")
    keys = {}
    for name in ("BotSubscribers", "BotConversations", "BotAnalytics"):
        table = ddb.describe_table(TableName=name)["Table"]
        keys[name] = [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]]
        assert table["TableStatus"] == "ACTIVE"
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert table["SSEDescription"]["Status"] == "ENABLED"
        backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
        assert {t["Key"]: t["Value"] for t in tags} == {
            "Project": "SMSBot",
            "Environment": "staging",
        }
    assert keys == {
        "BotSubscribers": [("phone", "HASH")],
        "BotConversations": [("phone_number", "HASH")],
        "BotAnalytics": [("date", "HASH"), ("metric_type", "RANGE")],
    }


def test_sns_settings_topics_and_subscriptions(aws):
    provision()
    sns = client("sns")
    assert sns.get_sms_attributes()["attributes"] == {
        "DefaultSMSType": "Transactional",
        "DefaultSenderID": "AIBOT",
        "MonthlySpendLimit": "100",
        "DeliveryStatusIAMRole": "arn:aws:iam::123456789012:role/sns-sms-logs",
        "DeliveryStatusSuccessSamplingRate": "100",
    }
    topics = {t["TopicArn"].rsplit(":", 1)[1] for t in sns.list_topics()["Topics"]}
    assert topics == {"bot-sms-inbound", "bot-sms-events", "smsbot-alerts"}
    subscriptions = sns.list_subscriptions()["Subscriptions"]
    assert sorted(
        (s["TopicArn"].rsplit(":", 1)[1], s["Protocol"], s["Endpoint"]) for s in subscriptions
    ) == [
        ("bot-sms-events", "https", "https://portal.example.com/webhooks/sns/"),
        ("bot-sms-inbound", "https", "https://portal.example.com/webhooks/sns/"),
        ("smsbot-alerts", "email", "oncall@example.com"),
        ("smsbot-alerts", "email", "ops@example.com"),
    ]


def test_log_groups_dashboard_alarms_and_budget(aws):
    provision()
    groups = client("logs").describe_log_groups()["logGroups"]
    # SNS's own delivery log groups, made ahead of SNS so that they keep 30 days, not forever.
    assert {(g["logGroupName"], g["retentionInDays"]) for g in groups} == {
        ("sns/us-east-1/123456789012/DirectPublishToPhoneNumber", 30),
        ("sns/us-east-1/123456789012/DirectPublishToPhoneNumber/Failure", 30),
        ("/smsbot/portal", 30),
    }
    cw = client("cloudwatch")
    body = json.loads(cw.get_dashboard(DashboardName="SMS-Bot-Operations")["DashboardBody"])
    metrics = {tuple(m) for w in body["widgets"] for m in w["properties"]["metrics"]}
    assert metrics == {
        ("AWS/SNS", "NumberOfNotificationsDelivered"),
        ("AWS/SNS", "NumberOfNotificationsFailed"),
        ("AWS/SNS", "SMSMonthToDateSpentUSD"),
        ("AWS/SNS", "SMSSuccessRate"),
        ("SMSBot", "MessagesSent"),
        ("SMSBot", "MessagesFailed"),
        ("SMSBot", "SpendUSD"),
        ("SMSBot", "MessagesDelivered"),
        ("SMSBot", "MessagesUndelivered"),
        ("SMSBot", "BeatHeartbeat"),
        ("SMSBot", "DailyBroadcastPending"),
        ("SMSBot", "DailyBroadcastStarted"),
        ("SMSBot", "MirrorErrors"),
    }
    alarms = {
        a["AlarmName"]: (a.get("MetricName"), a["ComparisonOperator"], a["Threshold"])
        for a in cw.describe_alarms()["MetricAlarms"]
    }
    assert alarms == {
        "sms-spend-80pct": ("SMSMonthToDateSpentUSD", "GreaterThanOrEqualToThreshold", 80.0),
        "sms-success-rate-low": ("SMSSuccessRate", "LessThanThreshold", 0.9),
        "smsbot-worker-failures": ("MessagesFailed", "GreaterThanThreshold", 10.0),
        "smsbot-delivery-failure-rate": (None, "GreaterThanThreshold", 10.0),
        "smsbot-beat-heartbeat": (None, "LessThanThreshold", 1.0),
        "smsbot-daily-broadcast-missed": (None, "GreaterThanOrEqualToThreshold", 1.0),
        "smsbot-mirror-errors": ("MirrorErrors", "GreaterThanThreshold", 0.0),
        "smsbot-broadcast-braked": ("BroadcastBraked", "GreaterThanThreshold", 0.0),
    }
    budgets = client("budgets")
    budget = budgets.describe_budget(AccountId="123456789012", BudgetName="smsbot-monthly-sms")
    assert budget["Budget"]["BudgetType"] == "COST"
    assert budget["Budget"]["TimeUnit"] == "MONTHLY"
    assert float(budget["Budget"]["BudgetLimit"]["Amount"]) == 100.0
    [alert] = budgets.describe_notifications_for_budget(
        AccountId="123456789012", BudgetName="smsbot-monthly-sms"
    )["Notifications"]
    assert (alert["NotificationType"], alert["Threshold"], alert["ThresholdType"]) == (
        "ACTUAL",
        80.0,
        "PERCENTAGE",
    )


def test_every_name_takes_the_prefix(aws, settings):
    settings.AWS_RESOURCE_PREFIX = "stg-"
    provision()
    assert {r["RoleName"] for r in client("iam").list_roles()["Roles"]} == {
        "stg-sns-sms-logs",
        "stg-smsbot-portal",
    }
    assert set(client("dynamodb").list_tables()["TableNames"]) == {
        "stg-BotSubscribers",
        "stg-BotConversations",
        "stg-BotAnalytics",
    }
    topics = {t["TopicArn"].rsplit(":", 1)[1] for t in client("sns").list_topics()["Topics"]}
    assert topics == {"stg-bot-sms-inbound", "stg-bot-sms-events", "stg-smsbot-alerts"}
    groups = {g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]}
    # SNS names its own log groups: no prefix there.
    assert groups == {
        "sns/us-east-1/123456789012/DirectPublishToPhoneNumber",
        "sns/us-east-1/123456789012/DirectPublishToPhoneNumber/Failure",
        "/smsbot/stg-portal",
    }
    cw = client("cloudwatch")
    assert [d["DashboardName"] for d in cw.list_dashboards()["DashboardEntries"]] == [
        "stg-SMS-Bot-Operations"
    ]
    assert all(a["AlarmName"].startswith("stg-") for a in cw.describe_alarms()["MetricAlarms"])


def test_drift_is_planned_as_updates_saying_what_changes_and_then_repaired(aws, settings):
    provision()
    client("logs").put_retention_policy(logGroupName="/smsbot/portal", retentionInDays=7)
    client("dynamodb").update_continuous_backups(
        TableName="BotConversations",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    client("iam").update_assume_role_policy(
        RoleName="sns-sms-logs",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    client("cloudwatch").put_dashboard(
        DashboardName="SMS-Bot-Operations", DashboardBody='{"widgets": []}'
    )
    settings.SNS_SENDER_ID = "NEWBOT"

    plan = run("provision_aws", "--dry-run")
    updates = "\n".join(plan.lines("update"))
    assert len(plan.lines("update")) == 5
    assert "CloudWatch log group /smsbot/portal (retentionInDays: 7 → 30)" in updates
    assert "DynamoDB table BotConversations (point-in-time recovery: DISABLED → ENABLED)" in updates
    assert "IAM role sns-sms-logs (trust: differs → sns.amazonaws.com)" in updates
    assert (
        "CloudWatch dashboard SMS-Bot-Operations (body: differs → rewritten (8 widgets))" in updates
    )
    assert "SNS SMS attributes (DefaultSenderID: AIBOT → NEWBOT)" in updates

    provision()
    assert not run("provision_aws", "--dry-run").lines("update")
    assert run("verify_aws").error is None


def test_existing_table_with_another_key_is_refused(aws):
    client("dynamodb").create_table(
        TableName="BotSubscribers",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    result = run("provision_aws")
    assert result.error == (
        "DynamoDB table BotSubscribers: exists with key schema [('id', 'HASH')], expected "
        "[('phone', 'HASH')]; refusing to replace it — rename or migrate the table by hand"
    )


def test_subscriptions_are_skipped_with_a_warning_when_the_url_is_not_public(aws, settings):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    result = provision()
    skipped = result.lines("skipped")
    assert len(skipped) == 2  # the inbound and events topics' subscriptions
    assert (
        "warning: subscription skipped: PUBLIC_BASE_URL http://localhost:8000 is not a "
        "public https URL (it is not https)" in result.out
    )
    subscriptions = client("sns").list_subscriptions()["Subscriptions"]
    assert [s for s in subscriptions if s["Protocol"] == "https"] == []

    verified = run("verify_aws")
    assert verified.error is None
    assert [line for line in verified.checks("–") if "webhooks/sns" in line]


def test_budget_without_alert_address_warns_then_gains_the_alert(aws, settings):
    settings.BUDGET_ALERT_EMAIL = ""
    first = provision()
    assert (
        "warning: BUDGET_ALERT_EMAIL is not set: the budget gets no 80% e-mail alert" in first.out
    )
    verified = run("verify_aws")
    assert (
        "✓ budget smsbot-monthly-sms: monthly COST limit 100 USD, "
        "80% alert off (BUDGET_ALERT_EMAIL not set)" in verified.out
    )

    settings.BUDGET_ALERT_EMAIL = "ops@example.com"
    [update] = provision().lines("update")
    assert "budget smsbot-monthly-sms 80% e-mail alert: off → on" in update
    notifications = client("budgets").describe_notifications_for_budget(
        AccountId="123456789012", BudgetName="smsbot-monthly-sms"
    )["Notifications"]
    assert len(notifications) == 1
    assert not run("provision_aws", "--dry-run").lines("update")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://portal.example.com/webhooks/sns/", None),
        ("https://203.0.113.9/webhooks/sns/", "203.0.113.9 is not a public address"),
        ("https://8.8.8.8/webhooks/sns/", None),
        ("http://portal.example.com/webhooks/sns/", "it is not https"),
        ("https://localhost:8000/webhooks/sns/", "localhost is not a public host name"),
        ("https://127.0.0.1/webhooks/sns/", "127.0.0.1 is not a public address"),
        ("https://10.1.2.3/webhooks/sns/", "10.1.2.3 is not a public address"),
        ("https://192.168.1.5/webhooks/sns/", "192.168.1.5 is not a public address"),
        ("https://portal.local/webhooks/sns/", "portal.local is not a public host name"),
        (
            "https://portal.example.test/webhooks/sns/",
            "portal.example.test is not a public host name",
        ),
        ("https://api.internal/webhooks/sns/", "api.internal is not a public host name"),
        ("https://web.localhost/webhooks/sns/", "web.localhost is not a public host name"),
        ("https://portal/webhooks/sns/", "portal is not a public host name"),
    ],
)
def test_public_url_rule(url, reason):
    assert not_public_reason(url) == reason
