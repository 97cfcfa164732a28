"""SES through the commands: the identity and its DKIM records, the feedback path, the
account's standing, teardown; on moto with tests/fakes/ses_account.py in front."""

import json

import pytest

from smsbot.aws import client
from tests.provisioning.conftest import provision, run

ACCOUNT = "123456789012"
DOMAIN = "example.com"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:smsbot-ses-feedback"
CONFIG_SET_ARN = f"arn:aws:ses:us-east-1:{ACCOUNT}:configuration-set/smsbot-email"


@pytest.fixture
def email_on(aws, settings, sns_sandbox, aws_sms, ses_account):
    """E-mail on, and an account out of both SMS sandboxes so that only SES is judged."""
    settings.EMAIL_FROM = f"Daily Word <daily@{DOMAIN}>"
    settings.EMAIL_POSTAL_ADDRESS = "1 Example Plaza, Chicago, IL 60601"
    sns_sandbox.in_sandbox = False
    aws_sms.tier = "PRODUCTION"
    return ses_account


def dkim_lines(tokens: list[str]) -> list[str]:
    return [f"{t}._domainkey.{DOMAIN}  CNAME  {t}.dkim.amazonses.com" for t in tokens]


def ses_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if "SES" in line or "smsbot-ses" in line]


def test_provision_creates_the_identity_prints_its_records_and_builds_the_feedback_path(
    email_on,
):
    first = provision()
    tokens = email_on.identities[DOMAIN].tokens
    assert len(tokens) == 3
    lines = [line.strip() for line in first.out.splitlines()]
    for record in dkim_lines(tokens):
        assert record in lines
    assert any(line.startswith(f"create    SES identity {DOMAIN}") for line in lines)

    identity = client("sesv2").get_email_identity(EmailIdentity=DOMAIN)
    assert identity["DkimAttributes"]["Status"] == "PENDING"
    assert identity["VerifiedForSendingStatus"] is False

    # The configuration set (moto answers its SendingOptions wrongly), with one
    # destination to the feedback topic.
    config = client("sesv2").get_configuration_set(ConfigurationSetName="smsbot-email")
    assert config["Tags"] == [{"Key": "Project", "Value": "SMSBot"}]
    assert email_on.destinations["smsbot-email"] == {
        "smsbot-feedback-to-sns": {
            "Enabled": True,
            "MatchingEventTypes": ["BOUNCE", "COMPLAINT", "DELIVERY"],
            "SnsDestination": {"TopicArn": TOPIC_ARN},
        }
    }
    # SES may publish to the topic for this configuration set of this account only.
    sns = client("sns")
    policy = json.loads(sns.get_topic_attributes(TopicArn=TOPIC_ARN)["Attributes"]["Policy"])
    [ses] = [s for s in policy["Statement"] if s.get("Sid") == "SesEventPublishing"]
    assert ses["Principal"] == {"Service": "ses.amazonaws.com"}
    assert ses["Action"] == "sns:Publish"
    assert ses["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": CONFIG_SET_ARN}
    }
    # The owner's default statement is kept.
    assert len(policy["Statement"]) > 1
    [subscription] = sns.list_subscriptions_by_topic(TopicArn=TOPIC_ARN)["Subscriptions"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == (
        "https",
        "https://portal.example.com/webhooks/ses/",
    )


def test_a_second_run_changes_nothing_and_repeats_the_records_until_found(email_on):
    provision()
    again = provision()
    assert again.lines("create") == again.lines("update") == []
    assert [line.split("  [")[0] for line in ses_lines(again.out) if "unchanged" in line] == [
        f"unchanged SES identity {DOMAIN}",
        "unchanged SNS topic smsbot-ses-feedback",
        "unchanged SES configuration set smsbot-email (events → smsbot-ses-feedback)",
        "unchanged SNS subscription smsbot-ses-feedback → https://portal.example.com/webhooks/ses/",
    ]
    assert set(dkim_lines(email_on.identities[DOMAIN].tokens)) <= {
        line.strip() for line in again.out.splitlines()
    }
    assert len(email_on.destinations["smsbot-email"]) == 1

    email_on.dns_published(DOMAIN)
    found = provision()
    assert "_domainkey" not in found.out


def test_a_changed_destination_is_repaired(email_on):
    provision()
    email_on.destinations["smsbot-email"]["smsbot-feedback-to-sns"]["MatchingEventTypes"] = [
        "DELIVERY"
    ]
    [update] = run("provision_aws").lines("update")
    assert "SES configuration set smsbot-email" in update
    assert "MatchingEventTypes: ['DELIVERY'] → ['BOUNCE', 'COMPLAINT', 'DELIVERY']" in update
    destination = email_on.destinations["smsbot-email"]["smsbot-feedback-to-sns"]
    assert destination["MatchingEventTypes"] == ["BOUNCE", "COMPLAINT", "DELIVERY"]


def test_verify_reports_dkim_pending_then_verified(email_on):
    provision()
    pending = run("verify_aws")
    assert pending.error
    assert f"✗ SES identity {DOMAIN}: verified for sending: NO" in pending.out
    [dkim] = [line for line in pending.checks("✗") if ": DKIM " in line]
    assert dkim.startswith(f"✗ SES identity {DOMAIN}: DKIM PENDING — ")
    assert "publish the 3 records provision_aws prints" in dkim

    email_on.dns_published(DOMAIN)
    email_on.production_access = True
    verified = run("verify_aws")
    assert verified.error is None, verified.out
    assert f"✓ SES identity {DOMAIN}: verified for sending: yes" in verified.out
    assert f"✓ SES identity {DOMAIN}: DKIM SUCCESS" in verified.out
    assert (
        "✓ SES configuration set smsbot-email (events → smsbot-ses-feedback): exists; "
        "bounce, complaint, delivery published to the topic" in verified.out
    )
    assert "✓ SES account: production access (mail to any address)" in verified.out


def test_verify_says_what_to_do_when_dkim_failed(email_on):
    provision()
    email_on.dns_never_published(DOMAIN)
    failed = run("verify_aws")
    assert failed.error
    [dkim] = [line for line in failed.checks("✗") if ": DKIM " in line]
    assert "DKIM FAILED — SES did not find the CNAME records within 72 hours" in dkim
    assert "restart verification" in dkim


def test_a_sandbox_account_is_noted_with_the_way_out(email_on):
    provision()
    email_on.dns_published(DOMAIN)
    result = run("verify_aws")
    # Noted, not failed: provisioning cannot take an account out of the sandbox.
    assert result.error is None, result.out
    [sandbox] = [line for line in result.checks("–") if "SES account" in line]
    assert "IN THE SANDBOX — mail reaches verified addresses and domains only" in sandbox
    assert "at most 200 a day, 1 a second" in sandbox
    assert "request production access" in sandbox
    assert "✓ SES sending quota: 200 e-mails per 24 hours, 1 a second; 0 sent" in result.out


def test_quota_counts_the_mail_sent(email_on):
    provision()
    email_on.dns_published(DOMAIN)
    email_on.production_access = True
    ses = client("sesv2")
    for n in range(2):
        ses.send_email(
            FromEmailAddress=f"daily@{DOMAIN}",
            Destination={"ToAddresses": [f"reader{n}@example.org"]},
            Content={"Simple": {"Subject": {"Data": "hi"}, "Body": {"Text": {"Data": "hi"}}}},
        )
    result = run("verify_aws")
    assert (
        "✓ SES sending quota: 50000 e-mails per 24 hours, 14 a second; "
        "2 sent in the last 24 hours" in result.out
    )


def test_teardown_removes_identity_configuration_set_destination_and_topic(email_on):
    provision()
    result = run("teardown_aws", "--yes")
    assert result.error is None, result.out
    for line in (
        "SNS subscription smsbot-ses-feedback → https://portal.example.com/webhooks/ses/: deleted",
        "SES configuration set smsbot-email (events → smsbot-ses-feedback): deleted "
        "(with its event destination)",
        "SNS topic smsbot-ses-feedback: deleted",
        f"SES identity {DOMAIN}: deleted",
    ):
        assert any(out.startswith(line) for out in result.out.splitlines()), line
    ses = client("sesv2")
    assert ses.list_email_identities()["EmailIdentities"] == []
    assert ses.list_configuration_sets()["ConfigurationSets"] == []
    assert email_on.destinations.get("smsbot-email") is None
    assert client("sns").list_topics()["Topics"] == []

    again = run("teardown_aws", "--yes")
    assert f"SES identity {DOMAIN}: absent" in again.out


def test_an_email_from_without_a_domain_is_refused(aws, settings):
    settings.EMAIL_FROM = "daily"
    settings.EMAIL_POSTAL_ADDRESS = "1 Example Plaza, Chicago, IL 60601"
    result = run("provision_aws")
    assert result.error == (
        "EMAIL_FROM 'daily' has no domain: give an address such as "
        "'Daily Word <daily@example.com>'; its domain becomes the SES identity."
    )
