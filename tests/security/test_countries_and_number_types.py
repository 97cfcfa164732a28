"""Numbers that cost or mislead never become subscribers, through any door; sign-ups
come only from OPTIN_ALLOWED_COUNTRIES; a STOP is honoured from any sender.

The numbers are fictional ranges: NANP 555-0100..0199 under any area code, and
the ranges Australia's ACMA reserves for drama (mobile 0491 570 xxx, freephone
1800 160 4xx, premium 1900 654 3xx, local-rate 1300 975 7xx). Types that have no
fictional range (pager, UAN, voicemail, satellite) use libphonenumber's own
example numbers, made at run time.
"""

import json

import phonenumbers
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from phonenumbers import PhoneNumberType

from messaging.models import Message
from subscribers.consent import change
from subscribers.models import ConsentEvent, Subscriber

TOKEN = "partner-token-for-tests-0123"
pytestmark = pytest.mark.django_db


def example(region: str, kind: int) -> str:
    number = phonenumbers.example_number_for_type(region, kind)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def satellite() -> str:
    number = phonenumbers.example_number_for_non_geo_entity(881)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# (number, the reason's words): refused whatever the allowed countries.
REFUSED_TYPES = [
    ("+19005550100", "premium-rate"),
    ("+18005550100", "toll-free"),
    ("+18885550123", "toll-free"),
    ("+611900654321", "premium-rate"),
    ("+611800160401", "toll-free"),
    ("+611300975707", "shared-cost"),
]
GENERATED_TYPES = [
    (("CA", PhoneNumberType.UAN), "universal access"),
    (("AU", PhoneNumberType.PAGER), "pager"),
    (("CH", PhoneNumberType.VOICEMAIL), "voicemail"),
]
# Refused by region: a mobile in Australia, and +1 numbers outside the US and Canada
# (the Caribbean ranges SMS pumping favours).
OTHER_REGIONS = [("+61491570006", "AU"), ("+18765550100", "JM"), ("+17875550100", "PR")]


def refused_numbers() -> list[tuple[str, str]]:
    generated = [(example(*args), reason) for args, reason in GENERATED_TYPES]
    return [*REFUSED_TYPES, *generated, (satellite(), "satellite")]


def api(client, phone: str):
    body = {"phone": phone, "consent": True, "action": "subscribe"}
    return client.post(
        reverse("subscribers:optin_api"),
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )


def form(client, phone: str):
    data = {"phone": phone, "channel": "sms", "consent": "on"}
    return client.post(reverse("subscribers:optin"), data)


@pytest.fixture(autouse=True)
def open_doors(settings):
    settings.WEBHOOK_TOKEN = TOKEN
    # Wide enough that only the number's type can refuse these.
    settings.OPTIN_ALLOWED_COUNTRIES = ["US", "CA", "AU", "CH", "JM"]
    settings.OPTIN_NUMBER_RATE_LIMIT = "100/h"
    settings.OPTIN_RATE_LIMIT = "1000/h"


def test_costly_number_types_are_refused_by_the_api(client, probe):
    for phone, reason in refused_numbers():
        response = probe.attack(api(client, phone))
        assert response.status_code == 400, phone
        assert reason in response.json()["error"], (phone, response.json())
    assert not Subscriber.objects.exists() and not Message.objects.exists()


def test_costly_number_types_are_refused_by_the_form(client, probe):
    for phone, reason in refused_numbers():
        response = form(client, phone)
        html = response.content.decode()
        probe.attack(response, refused="This number cannot be used" in html)
        assert reason in html, phone
    assert not Subscriber.objects.exists()


def test_sign_ups_from_other_regions_are_refused(client, settings, probe):
    settings.OPTIN_ALLOWED_COUNTRIES = ["US", "CA"]
    for phone, region in OTHER_REGIONS:
        response = probe.attack(api(client, phone))
        assert response.status_code == 400
        assert (
            f"numbers from {region} cannot sign up here (allowed: US, CA)"
            in (response.json()["error"])
        )
        page = form(client, phone)
        probe.attack(page, refused=f"numbers from {region} cannot" in page.content.decode())
    assert not Subscriber.objects.exists()
    # US and Canadian numbers go through.
    assert api(client, "+13125550123").status_code == 200
    assert api(client, "+16135550100").status_code == 200


def test_the_import_refuses_costly_numbers_row_by_row(tmp_path, probe):
    rows = "".join(f"{phone},opted_in,fair sheet\n" for phone, _ in refused_numbers())
    path = tmp_path / "members.csv"
    path.write_text("phone,consent_status,evidence\n+13125550101,opted_in,sheet\n" + rows)
    with pytest.raises(CommandError) as failure:
        call_command("import_subscribers", str(path))
    message = str(failure.value)
    for row, (_, reason) in enumerate(refused_numbers(), start=2):
        assert f"row {row}: phone: " in message and reason in message
        probe.record(400)
    assert not Subscriber.objects.exists()
    # Operators import numbers from anywhere: only the type refuses a row.
    path.write_text("phone,evidence\n+61491570006,signed form\n")
    call_command("import_subscribers", str(path))
    assert Subscriber.objects.get().phone == "+61491570006"


def test_the_admin_import_refuses_costly_numbers(admin_client, probe):
    text = "phone,evidence\n+19005550100,fair sheet\n+13125550101,fair sheet\n"
    preview = admin_client.post(
        reverse("admin:subscribers_subscriber_import"),
        {"format": "0", "import_file": SimpleUploadedFile("f.csv", text.encode(), "text/csv")},
    )
    html = preview.content.decode()
    probe.attack(preview, refused="premium-rate numbers cannot subscribe" in html)
    assert "Confirm import" not in html
    assert not Subscriber.objects.exists()


@pytest.mark.usefixtures("portal_answers")  # the HELP answer is the portal's
def test_stop_from_a_premium_rate_number_is_still_honoured(twilio):
    premium = "+19005550100"
    change(premium, "opted_in", "sms_keyword", {"text": "JOIN", "note": "before the rule"})
    assert twilio.inbound("STOP", sender=premium).status_code == 200
    assert Subscriber.objects.get(phone=premium).consent_status == "opted_out"
    assert ConsentEvent.objects.filter(to_status="opted_out").count() == 1
    # HELP from an unknown foreign number is answered too.
    response = twilio.inbound("HELP", sender="+61491570006")
    assert response.status_code == 200 and b"Reply STOP" in response.content
