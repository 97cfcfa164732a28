"""The SMS sandbox seen before it bites: verify_aws, manage.py sms_sandbox, the dashboard.

SNS's sandbox is tests/fakes/sns_sandbox.py in front of moto; End User Messaging
SMS's is the fake server's account tier and verified destination numbers.
"""

import pytest
from django.core.cache import cache
from django.urls import reverse

from smsbot.redaction import mask_phone
from tests.provisioning.conftest import provision, run

pytestmark = pytest.mark.django_db
PHONE = "+13125550123"


def sandbox_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if "SMS sandbox (" in line]


def test_verify_reports_both_sandboxes_with_their_verified_numbers(aws, sns_sandbox, aws_sms):
    sns_sandbox.numbers = {PHONE: "Verified", "+13125550124": "Pending"}
    provision()
    result = run("verify_aws")
    assert result.error is None, result.out
    sns_line, eum_line = sandbox_lines(result.out)
    assert sns_line.startswith(
        "– SMS sandbox (SNS): IN THE SANDBOX — messages reach verified destination numbers only: "
        f"1 verified ({mask_phone(PHONE)}), 1 awaiting their code."
    )
    assert PHONE not in result.out  # people's numbers are masked
    assert "sns-sms-sandbox-moving-to-production" in sns_line
    assert eum_line.startswith("– SMS sandbox (End User Messaging SMS): IN THE SANDBOX")

    sns_sandbox.in_sandbox = False
    aws_sms.tier = "PRODUCTION"
    assert sandbox_lines(run("verify_aws").out) == [
        "✓ SMS sandbox (SNS): out of the sandbox (production)",
        "✓ SMS sandbox (End User Messaging SMS): out of the sandbox (production)",
    ]


def test_add_verify_list_through_sns(aws, sns_sandbox):
    added = run("sms_sandbox", "add", "(312) 555-0123")
    assert added.error is None
    assert "run: manage.py sms_sandbox verify +13125550123 CODE".lower() in added.out.lower()
    assert sns_sandbox.numbers == {PHONE: "Pending"}

    code = sns_sandbox.codes[PHONE]
    wrong = run("sms_sandbox", "verify", PHONE, f"{(int(code) + 1) % 10**6:06d}")
    assert wrong.error == (
        "SNS sandbox: VerificationException in VerifySMSSandboxPhoneNumber: "
        "Invalid one-time password"
    )
    assert sns_sandbox.numbers[PHONE] == "Pending"

    verified = run("sms_sandbox", "verify", PHONE, code)
    assert verified.error is None and "verified" in verified.out
    assert sns_sandbox.numbers == {PHONE: "Verified"}

    listed = run("sms_sandbox", "list")
    assert listed.out.splitlines()[:2] == ["SNS: IN THE SANDBOX", f"  verified  {PHONE}"]


def test_add_verify_list_through_end_user_messaging(aws, aws_sms, settings):
    settings.SMS_PROVIDER = "aws-sms"
    assert run("sms_sandbox", "add", PHONE).error is None
    [destination] = aws_sms.verified_destinations.values()
    code = aws_sms.verification_codes[destination["VerifiedDestinationNumberId"]]

    assert run("sms_sandbox", "add", PHONE).error is None  # again: a new code, no duplicate
    assert len(aws_sms.verified_destinations) == 1
    code = aws_sms.verification_codes[destination["VerifiedDestinationNumberId"]]

    verified = run("sms_sandbox", "verify", PHONE, code)
    assert verified.error is None, verified.out
    assert destination["Status"] == "VERIFIED"
    listed = run("sms_sandbox", "list")
    assert listed.out.startswith(f"End User Messaging SMS: IN THE SANDBOX\n  verified  {PHONE}\n")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["add", "not-a-number"], "phone: 'not-a-number' is not a valid phone number"),
        (["verify", PHONE, "12ab"], "code: '12ab' is not the digits AWS texted"),
        (
            ["verify", "+13125550155", "123456"],
            "SNS sandbox: ResourceNotFound in VerifySMSSandboxPhoneNumber",
        ),
    ],
)
def test_refusals_exit_non_zero_with_a_reason(aws, sns_sandbox, args, error):
    result = run("sms_sandbox", *args)
    assert result.error is not None and result.error.startswith(error)


def test_eum_verify_of_a_number_never_added_says_so(aws, aws_sms, settings):
    settings.SMS_PROVIDER = "aws-sms"
    result = run("sms_sandbox", "verify", PHONE, "123456")
    assert result.error == (
        f"End User Messaging SMS sandbox: {mask_phone(PHONE)} was never added; run "
        f"manage.py sms_sandbox add {PHONE} first"
    )


def test_the_dashboard_says_when_the_account_is_in_the_sandbox(
    aws, sns_sandbox, admin_client, settings
):
    settings.SMS_PROVIDER = "sns"
    sns_sandbox.numbers = {PHONE: "Verified"}
    cache.clear()
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "The AWS account is in the SMS sandbox (SNS): messages reach only its 1 verified" in page
    assert "sns-sms-sandbox-moving-to-production.html" in page

    # Cached: leaving the sandbox shows once the cache is refreshed.
    sns_sandbox.in_sandbox = False
    cache.clear()
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "SMS sandbox" not in page
