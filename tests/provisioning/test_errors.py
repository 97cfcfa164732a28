"""Failures name the resource and the AWS error, and stop with a non-zero exit."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smsbot import aws as smsbot_aws
from smsbot.aws import client
from tests.provisioning.conftest import provision, run

ROOT = Path(__file__).resolve().parents[2]


def test_access_denied_names_the_resource_and_the_missing_permission(aws, deny):
    deny("CreateTable")  # DynamoDB: a JSON API
    result = run("provision_aws")
    assert result.error == (
        "DynamoDB table BotSubscribers: AccessDeniedException — missing permission "
        "dynamodb:CreateTable (User: arn:aws:iam::123456789012:user/deployer is not "
        "authorized (CreateTable))"
    )
    # Everything before the table in the dependency order is done; nothing after it.
    assert "create    SNS alerts topic smsbot-alerts" in result.out
    assert "DynamoDB" not in result.out
    assert len(client("iam").list_roles()["Roles"]) == 2
    assert client("cloudwatch").list_dashboards()["DashboardEntries"] == []


def test_access_denied_on_a_query_api(aws, deny):
    deny("PutRolePolicy")  # IAM: a query API answering in XML
    result = run("provision_aws")
    assert result.error.startswith(
        "IAM role sns-sms-logs: AccessDenied — missing permission iam:PutRolePolicy ("
    )


def test_verify_reports_an_unreadable_item_and_goes_on(aws, deny):
    provision()
    deny("DescribeContinuousBackups")
    result = run("verify_aws")
    assert result.error == "3 of 37 checks failed."
    assert (
        "✗ DynamoDB table BotAnalytics: could not check — AccessDeniedException — missing "
        "permission dynamodb:DescribeContinuousBackups" in result.out
    )
    assert "✓ budget smsbot-monthly-sms" in result.out


def test_missing_region_is_one_line(aws, settings):
    settings.AWS_REGION = ""
    assert run("provision_aws").error == (
        "AWS_REGION is not set: set it to the region to provision in."
    )


@pytest.fixture
def no_credentials(aws, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    smsbot_aws._client.cache_clear()  # clients keep the credentials they were built with
    yield
    smsbot_aws._client.cache_clear()


NO_CREDENTIALS = (
    "AWS account (sts:GetCallerIdentity): no AWS credentials found: set "
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or run where an instance or "
    "task role provides them"
)


@pytest.mark.parametrize("command", ["provision_aws", "verify_aws", "teardown_aws"])
def test_missing_credentials_are_one_line(no_credentials, command):
    args = ["--yes"] if command == "teardown_aws" else []
    assert run(command, *args).error == NO_CREDENTIALS


def test_missing_credentials_from_manage_py_is_not_a_traceback(no_credentials):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings")
    done = subprocess.run(
        [sys.executable, "manage.py", "provision_aws", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == f"ProvisionError: {NO_CREDENTIALS}"
    assert "Traceback" not in done.stderr
