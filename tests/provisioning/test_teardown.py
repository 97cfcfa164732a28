"""teardown_aws: only with --yes; tables and their data only with --delete-data."""

from smsbot.aws import client
from tests.provisioning.conftest import provision, run


def test_refuses_without_yes(aws):
    provision()
    result = run("teardown_aws")
    assert result.error == (
        "teardown_aws deletes the portal's AWS resources; run it again with --yes."
    )
    assert result.out == ""
    assert len(client("iam").list_roles()["Roles"]) == 2


def test_keeps_tables_and_their_data_without_delete_data(aws):
    provision()
    ddb = client("dynamodb")
    ddb.put_item(TableName="BotSubscribers", Item={"phone": {"S": "+13125550123"}})

    result = run("teardown_aws", "--yes")
    assert result.error is None
    assert (
        "DynamoDB table BotSubscribers: kept with its data (pass --delete-data to delete "
        "the table)" in result.out
    )
    assert "SNS topic bot-sms-inbound: deleted" in result.out
    assert "IAM role smsbot-portal: deleted" in result.out
    assert ddb.get_item(TableName="BotSubscribers", Key={"phone": {"S": "+13125550123"}})["Item"]
    assert client("iam").list_roles()["Roles"] == []
    assert client("sns").list_topics()["Topics"] == []
    assert client("logs").describe_log_groups()["logGroups"] == []
    assert client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert client("budgets").describe_budgets(AccountId="123456789012").get("Budgets", []) == []

    verified = run("verify_aws")
    assert verified.error
    assert "✓ DynamoDB table BotSubscribers: ACTIVE" in verified.out

    again = run("teardown_aws", "--yes", "--delete-data")
    assert again.error is None
    assert "SNS topic bot-sms-inbound: absent" in again.out
    assert "DynamoDB table BotSubscribers: deleted" in again.out
    assert ddb.list_tables()["TableNames"] == []

    # Teardown leaves a state provision_aws rebuilds from; only the account-level
    # SMS settings, which cannot be deleted, were still there.
    rebuilt = provision()
    assert [line.split("  [")[0] for line in rebuilt.lines("unchanged")] == [
        "unchanged SNS SMS attributes"
    ]
    assert run("verify_aws").error is None
