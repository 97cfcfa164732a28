"""Two-factor login and the lockout page, in Chromium, as a staff user meets them:
a superuser's enrolment link, the authenticator app, recovery codes.

The code is computed from the secret the page shows, as an authenticator app
would (RFC 6238, django-otp's own TOTP).
"""

import time
from base64 import b32decode, b32encode

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.ops.factories import OPS_PASSWORD, ops_manager

pytestmark = pytest.mark.browser


def code(secret: str, step: int | None = None) -> str:
    """The code of a time step (default: now), as an authenticator app shows it."""
    totp = TOTP(b32decode(secret.replace(" ", "")))
    totp.time = time.time() if step is None else step * totp.step
    return f"{totp.token():06d}"


def password(visitor, username: str, secret: str) -> None:
    visitor.goto("/admin/login/?next=/admin/")
    visitor.page.fill("#id_username", username)
    visitor.page.fill("#id_password", secret)
    visitor.follow(visitor.page.locator("input[type=submit]"))


def log_in_with_code(visitor, username: str, secret: str) -> None:
    password(visitor, username, OPS_PASSWORD)
    assert visitor.page.inner_text("h1") == "Two-factor login"
    # A code is good once: the next one is the step after the last used. (django-otp
    # follows the phone's clock drift, so "now + 30 s" may fall outside its window.)
    used = TOTPDevice.objects.filter(user__username=username).get().last_t
    visitor.page.fill("#id_code", code(secret, step=used + 1 if used >= 0 else None))
    visitor.follow(visitor.page.locator("#two-factor-form input[type=submit]"))
    assert visitor.page.url.endswith("/admin/")


def test_a_superuser_issues_an_enrolment_link_and_the_staff_user_enrols_with_it(
    visitor, transactional_db, settings, live_server
):
    settings.ADMIN_2FA_REQUIRED = True
    settings.PUBLIC_BASE_URL = live_server.url
    user = ops_manager("ops")
    root = User.objects.create_superuser("root", "root@example.test", OPS_PASSWORD)
    root_secret = b32encode(
        TOTPDevice.objects.create(user=root, name="root", confirmed=True).bin_key
    ).decode()
    page = visitor.page

    # The password alone: not logged in, told what to do.
    password(visitor, user.username, OPS_PASSWORD)
    assert "/admin/login/" in page.url
    assert "Ask a superuser for an enrolment link" in page.inner_text(".errornote")

    # A superuser sees who has enrolled and issues the link.
    log_in_with_code(visitor, root.username, root_secret)
    visitor.goto("/admin/auth/user/?two_factor=no")
    assert page.locator("#result_list tbody tr").count() == 1
    visitor.goto(f"/admin/auth/user/{user.pk}/change/")
    assert page.inner_text("#user-two-factor-state") == "Not set up"
    visitor.follow(page.locator("#user-two-factor a.button"))
    visitor.follow(page.locator("#two-factor-action input[type=submit]"))
    link = page.inner_text("#enrolment-link")
    assert link.startswith(f"{live_server.url}/admin/enrol/?token=")
    visitor.follow(page.locator("#logout-form button"))

    # The staff user opens it, logs in there and sets up the app.
    visitor.goto(link)
    assert page.inner_text("h1") == "Set up two-factor login"
    page.fill("#id_username", user.username)
    page.fill("#id_password", OPS_PASSWORD)
    visitor.follow(page.locator("#enrol-form input[type=submit]"))
    assert "/admin/two-factor/" in page.url
    qr = page.locator(".two-factor-qr img")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")
    secret = page.inner_text("#two-factor-secret")
    assert len(secret.replace(" ", "")) == 32
    page.fill("#id_code", code(secret))
    visitor.follow(page.locator("#two-factor-form input[type=submit]"))
    assert page.inner_text("h1") == "Save your recovery codes"
    codes = page.locator("#two-factor-recovery code").all_inner_texts()
    assert len(codes) == settings.ADMIN_2FA_RECOVERY_CODES
    visitor.follow(page.locator("#two-factor-continue"))
    assert page.url.endswith("/admin/")
    assert "Subscribers" in page.inner_text("#content")

    # Next time: the code (the secret is not shown again), or a recovery code.
    visitor.follow(page.locator("#logout-form button"))
    log_in_with_code(visitor, user.username, secret)
    assert page.locator(".two-factor-qr").count() == 0
    visitor.follow(page.locator("#logout-form button"))
    password(visitor, user.username, OPS_PASSWORD)
    page.fill("#id_code", codes[0])
    visitor.follow(page.locator("#two-factor-form input[type=submit]"))
    assert "You logged in with a recovery code; 9 left" in page.inner_text(".messagelist")
    visitor.follow(page.locator("#logout-form button"))

    # The link is used up.
    page.goto(link)
    visitor.screenshot()
    # A used link answers 400 Bad Request, on purpose.
    visitor.errors = [e for e in visitor.errors if "400" not in e]
    visitor.check()
    assert "has been used already" in page.inner_text("#enrol-refusal")


def test_too_many_wrong_passwords_show_when_to_try_again(visitor, transactional_db):
    user = ops_manager("ops")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        password(visitor, user.username, "not-the-password")
        assert "Please enter the correct username and password" in visitor.page.content()
    visitor.goto("/admin/login/?next=/admin/")
    visitor.page.fill("#id_username", user.username)
    visitor.page.fill("#id_password", "not-the-password")
    with visitor.page.expect_navigation():
        visitor.page.click("input[type=submit]")
    visitor.screenshot()
    # The lockout answers 429 Too Many Requests, on purpose.
    visitor.errors = [e for e in visitor.errors if "429" not in e]
    visitor.check()
    text = visitor.page.inner_text("#content")
    assert "Try again in 15 minutes" in text and "ask a superuser to unlock" in text
