"""Two-factor admin login over HTTP: a password alone no longer opens the admin.

Codes are computed from the secret the enrolment page shows, the way an
authenticator app does (RFC 6238 TOTP, django-otp's own implementation).
"""

import re
import time
from base64 import b32decode, b32encode

import pytest
from django.contrib.admin.models import ADDITION, DELETION, LogEntry
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.security.conftest import OPS, PASSWORD, role_user

pytestmark = pytest.mark.django_db
LOGIN, INDEX = reverse("admin:login"), reverse("admin:index")
TWO_FACTOR = reverse("admin:two_factor")


@pytest.fixture
def required(settings):
    settings.ADMIN_2FA_REQUIRED = True


def code(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for this secret (optionally a later step's code)."""
    totp = TOTP(b32decode(secret.replace(" ", "")))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def secret_of(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode()


def password_step(username: str) -> tuple[Client, object]:
    client = Client()
    response = client.post(LOGIN, {"username": username, "password": PASSWORD, "next": INDEX})
    return client, response


def shown_secret(page: str) -> str:
    return re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', page)[1]


def test_without_a_device_the_password_leads_to_enrolment_and_the_first_code_confirms_it(
    required,
):
    user = role_user(OPS)
    client, response = password_step(user.username)
    assert response.status_code == 302 and response.url.startswith(TWO_FACTOR)
    # The password alone opens nothing.
    assert client.get(INDEX).status_code == 302
    assert client.get(reverse("admin:subscribers_subscriber_changelist")).status_code == 302

    page = client.get(response.url).content.decode()
    secret = shown_secret(page)
    qrcode = client.get(reverse("admin:two_factor_qrcode"))
    assert qrcode["Content-Type"] == "image/svg+xml" and b"<svg" in qrcode.content
    assert "no-store" in qrcode["Cache-Control"]

    wrong = client.post(response.url, {"code": "000000" if code(secret) != "000000" else "111111"})
    assert "That code is not valid" in wrong.content.decode()
    assert client.get(INDEX).status_code == 302

    time.sleep(1.1)  # django-otp refuses codes for 1 s after a failure
    confirmed = client.post(response.url, {"code": code(secret)})
    assert confirmed.status_code == 302 and confirmed.url == INDEX
    assert client.get(INDEX).status_code == 200
    assert TOTPDevice.objects.get(user=user).confirmed
    entry = LogEntry.objects.get(action_flag=ADDITION, user=user)
    assert entry.get_change_message().startswith("Enrolled")
    # Once confirmed, the QR code (it carries the secret) is not shown again.
    assert client.get(reverse("admin:two_factor_qrcode")).status_code == 404

    # The next login asks for the code, not for a new enrolment.
    again, response = password_step(user.username)
    page = again.get(response.url).content.decode()
    assert "two-factor-secret" not in page and "Type the 6-digit code" in page
    assert again.post(response.url, {"code": code(secret, steps_ahead=1)}).url == INDEX
    assert again.get(INDEX).status_code == 200


def test_codes_cannot_be_guessed_quickly(required):
    user = role_user(OPS)
    client, response = password_step(user.username)
    secret = shown_secret(client.get(response.url).content.decode())
    client.post(response.url, {"code": code(secret)})  # enrolled
    again, response = password_step(user.username)
    again.post(response.url, {"code": "000000" if code(secret) != "000000" else "111111"})
    again.post(response.url, {"code": "222222" if code(secret) != "222222" else "333333"})
    # Right after failures even the right code is refused (django-otp's throttling).
    refused = again.post(response.url, {"code": code(secret, steps_ahead=1)})
    assert refused.status_code == 200 and again.get(INDEX).status_code == 302


def test_a_superuser_resets_a_lost_device_and_the_next_login_enrols_again(required):
    user = role_user(OPS)
    client, response = password_step(user.username)
    secret = shown_secret(client.get(response.url).content.decode())
    client.post(response.url, {"code": code(secret)})
    device = TOTPDevice.objects.get(user=user, confirmed=True)

    root = User.objects.create_superuser("root", "root@example.test", PASSWORD)
    admin = Client()
    admin.force_login(root)
    # The device list never shows the secret.
    change = admin.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
    assert device.key not in change.content.decode()
    delete = reverse("admin:otp_totp_totpdevice_delete", args=[device.pk])
    # Without the code, the superuser's own session is not let in either.
    assert admin.post(delete, {"post": "yes"}).status_code == 302
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    root_device = TOTPDevice.objects.create(user=root, name="root", confirmed=True)
    admin.post(TWO_FACTOR, {"code": code(secret_of(root_device))})
    assert admin.post(delete, {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert LogEntry.objects.filter(action_flag=DELETION, object_id=str(device.pk)).exists()

    again, response = password_step(user.username)
    assert "two-factor-secret" in again.get(response.url).content.decode()


def test_with_two_factor_off_the_password_is_enough_and_deploy_checks_warn(settings):
    settings.ADMIN_2FA_REQUIRED = False
    user = role_user(OPS)
    client, response = password_step(user.username)
    assert response.url == INDEX and client.get(INDEX).status_code == 200

    settings.DEBUG = False
    with pytest.raises(SystemCheckError, match="ADMIN_2FA_REQUIRED is false"):
        call_command("check", "--deploy", "--fail-level", "WARNING")
    settings.ADMIN_2FA_REQUIRED = True
    try:
        call_command("check", "--deploy", "--fail-level", "WARNING", "--tag", "security")
    except SystemCheckError as failed:
        assert "ADMIN_2FA_REQUIRED" not in str(failed)


def test_the_demo_login_says_two_factor_is_off(settings, capsys):
    settings.ADMIN_2FA_REQUIRED = False
    call_command("seed_demo", "--admin-only")
    assert "Two-factor login is off for this demo" in capsys.readouterr().out
