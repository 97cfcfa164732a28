"""Two-factor admin login over HTTP: a password alone neither opens the admin nor enrols.

The attacks on enrolment (reused, expired, other users' links; resets by
non-superusers) are in test_enrolment.py.
"""

import re
import time

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from smsbot.models import EnrolmentLink
from tests.security.conftest import OPS, role_user
from tests.security.two_factor_steps import (
    INDEX,
    TWO_FACTOR,
    code,
    enrol,
    open_link,
    password_step,
    shown_codes,
    shown_link,
    shown_secret,
    verified_superuser,
    wrong,
)

pytestmark = pytest.mark.django_db
QRCODE = reverse("admin:two_factor_qrcode")


@pytest.fixture
def required(settings):
    settings.ADMIN_2FA_REQUIRED = True


def test_without_a_device_the_password_alone_logs_nobody_in(required):
    user = role_user(OPS)
    client, response = password_step(user.username)
    assert response.status_code == 200
    assert "Ask a superuser for an enrolment link" in response.content.decode()
    assert client.get(INDEX).status_code == 302
    assert "_auth_user_id" not in client.session
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_a_superusers_link_and_the_password_enrol_and_the_first_code_confirms(required):
    user = role_user(OPS)
    root = verified_superuser()
    page = root.get(reverse("admin:auth_user_enrolment_link", args=[user.pk]))
    assert "Issue the link" in page.content.decode()
    issued = root.post(reverse("admin:auth_user_enrolment_link", args=[user.pk]), {"post": "yes"})
    link = shown_link(issued.content.decode())
    assert "It works once, with their password" in issued.content.decode()

    client, response = open_link(link, user.username)
    assert response.status_code == 302 and response.url.startswith(TWO_FACTOR)
    # Logged in, but not into the admin until the code.
    assert client.get(INDEX).status_code == 302
    page = client.get(response.url).content.decode()
    secret = shown_secret(page)
    qrcode = client.get(QRCODE)
    assert qrcode["Content-Type"] == "image/svg+xml" and b"<svg" in qrcode.content
    assert "no-store" in qrcode["Cache-Control"]

    refused = client.post(response.url, {"code": wrong(secret)})
    assert "That code is not valid" in refused.content.decode()
    assert client.get(INDEX).status_code == 302

    time.sleep(1.1)  # django-otp refuses codes for 1 s after a failure
    confirmed = client.post(response.url, {"code": code(secret)})
    assert confirmed.status_code == 200
    codes = shown_codes(confirmed.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(INDEX).status_code == 200
    assert TOTPDevice.objects.get(user=user).confirmed
    assert EnrolmentLink.objects.get(user=user).used_at is not None
    entry = LogEntry.objects.get(action_flag=ADDITION, user=user)
    assert entry.get_change_message().startswith("Enrolled")
    assert "issued by root" in entry.get_change_message()
    # Once confirmed, the QR code (it carries the secret) is not shown again.
    assert client.get(QRCODE).status_code == 404

    # The next login asks for the code, not for a new enrolment.
    again, response = password_step(user.username)
    page = again.get(response.url).content.decode()
    assert "two-factor-secret" not in page and "Type the 6-digit code" in page
    assert again.post(response.url, {"code": code(secret, steps_ahead=1)}).url == INDEX
    assert again.get(INDEX).status_code == 200


def test_codes_cannot_be_guessed_quickly(required):
    user = role_user(OPS)
    secret = enrol(user).secret
    again, response = password_step(user.username)
    again.post(response.url, {"code": wrong(secret)})
    again.post(response.url, {"code": "222222" if code(secret) != "222222" else "333333"})
    # Right after failures even the right code is refused (django-otp's throttling).
    refused = again.post(response.url, {"code": code(secret, steps_ahead=1)})
    assert refused.status_code == 200 and again.get(INDEX).status_code == 302


def test_a_recovery_code_logs_in_once_in_place_of_a_code(required):
    user = role_user(OPS)
    codes = enrol(user).codes
    client, response = password_step(user.username)
    # As a person may type it: upper case, without the dash.
    used = client.post(response.url, {"code": codes[0].replace("-", "").upper()}, follow=True)
    assert used.redirect_chain[-1][0] == INDEX and used.status_code == 200
    assert "You logged in with a recovery code; 9 left" in used.content.decode()
    assert StaticToken.objects.filter(device__user=user).count() == 9
    entry = LogEntry.objects.filter(user=user).latest("pk")
    assert entry.get_change_message() == "Logged in with a recovery code (9 left)"

    again, response = password_step(user.username)
    refused = again.post(response.url, {"code": codes[0]})
    assert "That code is not valid" in refused.content.decode()
    assert again.get(INDEX).status_code == 302


def test_a_superusers_reset_is_audited_and_forces_a_new_enrolment(required):
    user = role_user(OPS)
    first = enrol(user)
    root = verified_superuser()
    change = root.get(reverse("admin:auth_user_change", args=[user.pk])).content.decode()
    assert "Authenticator app confirmed, 10 recovery codes left" in change
    reset = reverse("admin:auth_user_two_factor_reset", args=[user.pk])
    assert "Reset and issue a link" in root.get(reset).content.decode()
    assert TOTPDevice.objects.filter(user=user).exists()  # asking changed nothing

    answer = root.post(reset, {"post": "yes"})
    link = shown_link(answer.content.decode())
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticToken.objects.filter(device__user=user).exists()
    messages = [e.get_change_message() for e in LogEntry.objects.filter(object_id=str(user.pk))]
    assert (
        "Reset two-factor login: two-factor login: authenticator app confirmed, "
        "10 recovery codes left → not set up (devices deleted; a new enrolment link follows)"
    ) in messages
    assert any(m.startswith("Issued an enrolment link (valid until") for m in messages)

    # The session verified with the old device is verified no more.
    assert first.client.get(INDEX).status_code == 302
    # The password alone logs in no more; the new link enrols a new device.
    _, response = password_step(user.username)
    assert "Ask a superuser for an enrolment link" in response.content.decode()
    second = enrol(user, link)
    assert second.secret != first.secret and second.client.get(INDEX).status_code == 200


def test_the_user_list_shows_who_has_enrolled(required):
    enrolled, waiting = role_user(OPS), role_user("DevOps")
    codes = enrol(enrolled).codes
    client, response = password_step(enrolled.username)
    client.post(response.url, {"code": codes[0]})
    root = verified_superuser()
    users = reverse("admin:auth_user_changelist")
    listed = root.get(users)
    rows = {u.username: u for u in listed.context["cl"].result_list}
    assert rows[enrolled.username].two_factor_set_up and rows[enrolled.username].recovery_codes == 9
    assert not rows[waiting.username].two_factor_set_up
    set_up = root.get(users, {"two_factor": "yes"}).context["cl"].result_list
    assert {u.username for u in set_up} == {enrolled.username, "root"}
    not_set_up = root.get(users, {"two_factor": "no"}).context["cl"].result_list
    assert {u.username for u in not_set_up} == {waiting.username}
    assert "Recovery codes left" in listed.content.decode()


def test_the_first_superuser_enrols_with_a_link_the_shell_prints(required, capsys):
    call_command("createsuperuser", "--noinput", username="first", email="first@example.test")
    first = User.objects.get(username="first")
    first.set_password("first-superuser-password-0123")
    first.save()
    call_command("enrolment_link", "first")
    printed = capsys.readouterr().out
    assert "works once, with their password" in printed
    client, response = open_link(shown_link(printed), "first", "first-superuser-password-0123")
    secret = shown_secret(client.get(response.url).content.decode())
    assert client.post(response.url, {"code": code(secret)}).status_code == 200
    assert client.get(INDEX).status_code == 200

    with pytest.raises(CommandError, match="--reset deletes their devices first"):
        call_command("enrolment_link", "first")
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("enrolment_link", "nobody")
    call_command("enrolment_link", "first", "--reset")
    assert not TOTPDevice.objects.filter(user=first).exists()
    assert shown_link(capsys.readouterr().out)
    entry = LogEntry.objects.filter(object_id=str(first.pk)).order_by("pk")
    assert "from a shell" in entry.reverse()[1].get_change_message()


def test_the_compose_seed_prints_an_enrolment_link_when_two_factor_is_on(required, capsys):
    call_command("seed_demo", "--admin-only")
    printed = capsys.readouterr().out
    (password,) = re.findall(r"^  admin / (\S+)", printed, re.M)
    _, response = open_link(shown_link(printed), "admin", password)
    assert response.status_code == 302 and response.url.startswith(TWO_FACTOR)


def test_with_two_factor_off_the_password_is_enough_and_deploy_checks_warn(settings):
    settings.ADMIN_2FA_REQUIRED = False
    user = role_user(OPS)
    client, response = password_step(user.username)
    assert response.url == INDEX and client.get(INDEX).status_code == 200
    # Enrolling ahead still needs a link.
    page = client.get(TWO_FACTOR).content.decode()
    assert "you need an enrolment link" in page and "two-factor-secret" not in page

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
    printed = capsys.readouterr().out
    assert "Two-factor login is off for this demo" in printed and "/admin/enrol/" not in printed
