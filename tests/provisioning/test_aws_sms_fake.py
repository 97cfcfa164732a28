"""The End User Messaging SMS fake answers boto3 as AWS does, at its own endpoint."""

import pytest
from botocore.exceptions import ClientError

from smsbot import aws


@pytest.fixture
def eum(aws_sms, settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # every other service: nowhere
    return aws.client("pinpoint-sms-voice-v2", attempts=1)


def test_the_per_service_endpoint_wins_over_aws_endpoint_url(aws_sms, settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    assert aws.endpoint_url("pinpoint-sms-voice-v2") == aws_sms.url
    assert aws.endpoint_url("sns") == "http://127.0.0.1:9"
    settings.AWS_ENDPOINT_URL = ""
    settings.AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2 = ""
    assert aws.endpoint_url("pinpoint-sms-voice-v2") is None  # boto3 finds AWS itself


def test_numbers_paging_filters_and_two_way(eum, aws_sms):
    ids = [aws_sms.add_phone_number(f"+1312555010{i}", "TOLL_FREE") for i in range(3)]
    first = eum.describe_phone_numbers(MaxResults=2)
    assert [n["PhoneNumberId"] for n in first["PhoneNumbers"]] == ids[:2]
    rest = eum.describe_phone_numbers(MaxResults=2, NextToken=first["NextToken"])
    assert [n["PhoneNumberId"] for n in rest["PhoneNumbers"]] == ids[2:]
    assert first["PhoneNumbers"][0]["MessagingLimits"]["RateLimits"] == {"SMS": 3}

    with pytest.raises(ClientError) as refused:
        eum.update_phone_number(PhoneNumberId=ids[0], TwoWayEnabled=True)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert refused.value.response["Reason"] == "TWO_WAY_CHANNEL_NOT_PRESENT"

    topic = "arn:aws:sns:us-east-1:123456789012:bot-sms-inbound"
    updated = eum.update_phone_number(
        PhoneNumberId=ids[0], TwoWayEnabled=True, TwoWayChannelArn=topic
    )
    assert updated["TwoWayEnabled"] is True and updated["TwoWayChannelArn"] == topic
    enabled = eum.describe_phone_numbers(Filters=[{"Name": "two-way-enabled", "Values": ["true"]}])
    assert [n["PhoneNumberId"] for n in enabled["PhoneNumbers"]] == ids[:1]

    with pytest.raises(eum.exceptions.ResourceNotFoundException):
        eum.update_phone_number(PhoneNumberId="phone-missing", TwoWayEnabled=False)


def test_pools_registrations_tier_and_spend_limits(eum, aws_sms):
    number = aws_sms.add_phone_number("+13125550100", "SHORT_CODE")
    pool = aws_sms.add_pool(number)
    registration = aws_sms.add_registration("US_TOLL_FREE_REGISTRATION", "REVIEWING")
    assert [p["PoolId"] for p in eum.describe_pools()["Pools"]] == [pool]
    [found] = eum.describe_registrations(RegistrationIds=[registration])["Registrations"]
    assert found["RegistrationStatus"] == "REVIEWING"
    assert eum.describe_account_attributes()["AccountAttributes"] == [
        {"Name": "ACCOUNT_TIER", "Value": "SANDBOX"}
    ]
    assert eum.describe_spend_limits()["SpendLimits"] == [
        {
            "Name": "TEXT_MESSAGE_MONTHLY_SPEND_LIMIT",
            "EnforcedLimit": 1,
            "MaxLimit": 1,
            "Overridden": False,
        }
    ]


def test_verified_destinations_code_and_the_sandbox_limit(eum, aws_sms):
    created = eum.create_verified_destination_number(DestinationPhoneNumber="+13125550123")
    ident = created["VerifiedDestinationNumberId"]
    assert created["Status"] == "PENDING"
    eum.send_destination_number_verification_code(
        VerifiedDestinationNumberId=ident, VerificationChannel="TEXT"
    )
    with pytest.raises(ClientError) as wrong:
        eum.verify_destination_number(VerifiedDestinationNumberId=ident, VerificationCode="x")
    assert wrong.value.response["Reason"] == "VERIFICATION_CODE_MISMATCH"
    code = aws_sms.verification_codes[ident]
    verified = eum.verify_destination_number(
        VerifiedDestinationNumberId=ident, VerificationCode=code
    )
    assert verified["Status"] == "VERIFIED"

    for i in range(1, 10):
        eum.create_verified_destination_number(DestinationPhoneNumber=f"+1312555014{i}")
    with pytest.raises(eum.exceptions.ServiceQuotaExceededException):
        eum.create_verified_destination_number(DestinationPhoneNumber="+13125550150")


def test_unknown_operations_and_queued_faults(eum, aws_sms):
    from tests.fakes.aws_sms_server import AwsError

    # boto3 retries a throttle once here (max_attempts counts retries): fail both.
    aws_sms.fail_next("DescribeSpendLimits", AwsError("ThrottlingException", "slow down"), times=2)
    with pytest.raises(ClientError) as throttled:
        eum.describe_spend_limits()
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
    assert eum.describe_spend_limits()["SpendLimits"]  # the faults used up, then normal
    with pytest.raises(ClientError) as unknown:
        eum.delete_keyword(OriginationIdentity="+13125550100", Keyword="HELP")
    assert unknown.value.response["Error"]["Code"] == "UnknownOperationException"
    assert [c.operation for c in aws_sms.calls][-1] == "DeleteKeyword"
