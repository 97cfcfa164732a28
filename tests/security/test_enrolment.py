"""Attacks on enrolment: who could set up someone's second factor, or take it away.

Every attack goes through the probe; each must be refused with a clear reason
and change nothing.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from smsbot.enrolment import SESSION_KEY
from smsbot.models import EnrolmentLink
from tests.security.conftest import DEVOPS, OPS, PASSWORD, STAFF, role_user
from tests.security.two_factor_steps import (
    INDEX,
    TWO_FACTOR,
    code,
    enrol,
    issued_link,
    open_link,
    password_step,
    shown_secret,
)

pytestmark = pytest.mark.django_db
ENROL = reverse("admin:enrol")
QRCODE = reverse("admin:two_factor_qrcode")


@pytest.fixture(autouse=True)
def required(settings):
    settings.ADMIN_2FA_REQUIRED = True


def not_in(client: Client) -> bool:
    return client.get(INDEX).status_code == 302


def refused_page(response, reason: str) -> bool:
    return response.status_code == 400 and reason in response.content.decode()


def test_a_password_alone_cannot_enrol(probe):
    user = role_user(OPS)
    client, response = password_step(user.username)
    probe.attack(response, refused="_auth_user_id" not in client.session)
    # Without a logged-in session the enrolment step and its QR code open nothing.
    probe.attack(client.get(TWO_FACTOR), refused=not_in(client))
    probe.attack(client.post(TWO_FACTOR, {"code": "123456"}), refused=not_in(client))
    probe.attack(client.get(QRCODE))
    # A staff session opened some other way (from before the links) cannot enrol either.
    session = Client()
    session.force_login(user)
    page = probe.attack(session.get(TWO_FACTOR), refused=not_in(session))
    assert "two-factor-secret" not in page.content.decode()
    probe.attack(session.post(TWO_FACTOR, {"code": "123456"}), refused=not_in(session))
    probe.attack(session.get(QRCODE))
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_a_used_link_is_refused(probe):
    user = role_user(OPS)
    link = issued_link(user)
    enrol(user, link)
    device = TOTPDevice.objects.get(user=user)
    reason = "This enrolment link has been used already"
    assert refused_page(probe.attack(Client().get(link)), reason)
    client, response = open_link(link, user.username)
    assert refused_page(probe.attack(response), reason)
    assert not_in(client) and "_auth_user_id" not in client.session
    # The device it enrolled stays the only one.
    assert list(TOTPDevice.objects.filter(user=user)) == [device]


def test_an_expired_link_is_refused(probe):
    user = role_user(OPS)
    link = issued_link(user)
    EnrolmentLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert refused_page(probe.attack(Client().get(link)), "This enrolment link expired at")
    client, response = open_link(link, user.username)
    assert refused_page(probe.attack(response), "Ask a superuser for a new enrolment link")
    assert not_in(client)


def test_a_link_that_expires_during_enrolment_enrols_nothing(probe):
    user = role_user(OPS)
    client, response = open_link(issued_link(user), user.username)
    secret = shown_secret(client.get(response.url).content.decode())
    EnrolmentLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = client.post(response.url, {"code": code(secret)})
    probe.attack(answer, refused=not_in(client))
    assert "This enrolment link expired at" in answer.content.decode()
    probe.attack(client.get(QRCODE))
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_another_users_link_is_refused(probe):
    owner, other = role_user(OPS), role_user(DEVOPS)
    link = issued_link(owner)
    # The other user's own, right password on the owner's link.
    client, response = open_link(link, other.username)
    assert refused_page(probe.attack(response), "issued for another user")
    assert not_in(client) and "_auth_user_id" not in client.session
    # Nor does a session opened with the owner's link let the other user enrol.
    # (a session of the other user carrying it, say through copied cookies).
    enrolling = Client()
    enrolling.force_login(other)
    session = enrolling.session
    session[SESSION_KEY] = EnrolmentLink.objects.get(user=owner).pk
    session.save()
    probe.attack(enrolling.get(QRCODE))
    page = probe.attack(enrolling.get(TWO_FACTOR), refused=not_in(enrolling))
    assert "two-factor-secret" not in page.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    # The owner still can.
    assert enrol(owner, link).client.get(INDEX).status_code == 200


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "x" * 5000, "' OR 1=1 --", "%00", "<script>alert(1)</script>"],
)
def test_a_made_up_link_is_refused(probe, token):
    user = role_user(OPS)
    issued_link(user)
    answer = probe.attack(Client().get(ENROL, {"token": token}))
    assert refused_page(answer, "This enrolment link is not valid")
    assert "<script>alert" not in answer.content.decode()
    posted = Client().post(ENROL, {"token": token, "username": user.username, "password": PASSWORD})
    assert refused_page(probe.attack(posted), "This enrolment link is not valid")


def test_a_newer_link_replaces_the_older(probe):
    user = role_user(OPS)
    older = issued_link(user)
    newer = issued_link(user)
    _, response = open_link(older, user.username)
    assert refused_page(probe.attack(response), "a newer link replaced it")
    assert enrol(user, newer).client.get(INDEX).status_code == 200


def test_a_link_holder_cannot_guess_the_password_for_long(probe):
    user = role_user(OPS)
    link = issued_link(user)
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        _, response = open_link(link, user.username, f"guess-{attempt}")
        probe.attack(response, refused="Please enter the correct" in response.content.decode())
    _, response = open_link(link, user.username, "one-guess-too-many")
    assert probe.attack(response).status_code == 429
    # Locked out (django-axes), now even with the right password.
    client, response = open_link(link, user.username)
    assert probe.attack(response).status_code == 429
    assert not_in(client)


def test_a_recovery_code_is_good_once_and_for_its_owner_only(probe):
    owner, other = role_user(OPS), role_user(DEVOPS)
    codes = enrol(owner).codes
    enrol(other)
    client, response = password_step(other.username)
    probe.attack(client.post(response.url, {"code": codes[0]}), refused=not_in(client))
    client, response = password_step(owner.username)
    assert client.post(response.url, {"code": codes[0]}).url == INDEX
    again, response = password_step(owner.username)
    probe.attack(again.post(response.url, {"code": codes[0]}), refused=not_in(again))
    assert StaticToken.objects.filter(device__user=owner).count() == len(codes) - 1


@pytest.mark.parametrize("role", [DEVOPS, OPS, STAFF, "staff with every user permission"])
def test_only_a_superuser_issues_links_or_resets(probe, role):
    target = role_user("target")
    enrolled = enrol(target)
    if role.startswith("staff with"):
        actor = role_user(STAFF)
        actor.user_permissions.set(Permission.objects.filter(content_type__model="user"))
    else:
        actor = role_user(role)
    client = enrol(actor).client
    for name in ("auth_user_enrolment_link", "auth_user_two_factor_reset"):
        url = reverse(f"admin:{name}", args=[target.pk])
        probe.attack(client.get(url))
        probe.attack(client.post(url, {"post": "yes"}))
    assert TOTPDevice.objects.filter(user=target, confirmed=True).exists()
    assert StaticToken.objects.filter(device__user=target).count() == len(enrolled.codes)
    assert not EnrolmentLink.objects.filter(user=target, used_at__isnull=True).exists()
    if role.startswith("staff with"):
        # Allowed to edit users, yet the user's page offers neither button.
        page = client.get(reverse("admin:auth_user_change", args=[target.pk])).content.decode()
        assert "user-two-factor" not in page


def test_a_superuser_cannot_issue_a_link_that_would_enrol_over_a_device(probe):
    target = role_user(OPS)
    enrol(target)
    root = role_user("superuser")
    client = enrol(root).client
    url = reverse("admin:auth_user_enrolment_link", args=[target.pk])
    answer = client.post(url, {"post": "yes"}, follow=True)
    probe.attack(answer, refused="has set up two-factor login already" in answer.content.decode())
    assert not EnrolmentLink.objects.filter(user=target, used_at__isnull=True).exists()
