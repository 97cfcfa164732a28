"""Two-factor login and the lockout page, in Chromium, as a staff user meets them.

The code is computed from the secret the page shows, as an authenticator app
would (RFC 6238, django-otp's own TOTP).
"""

import time
from base64 import b32decode

import pytest
from django.conf import settings
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


def test_a_staff_user_enrols_an_authenticator_and_logs_in_with_its_codes(
    visitor, transactional_db, settings
):
    settings.ADMIN_2FA_REQUIRED = True
    user = ops_manager("ops")
    page = visitor.page

    password(visitor, user.username, OPS_PASSWORD)
    assert "/admin/two-factor/" in page.url
    assert page.inner_text("h1") == "Set up two-factor login"
    qr = page.locator(".two-factor-qr img")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")
    secret = page.inner_text("#two-factor-secret")
    assert len(secret.replace(" ", "")) == 32

    page.fill("#id_code", code(secret))
    visitor.follow(page.locator("#two-factor-form input[type=submit]"))
    assert page.url.endswith("/admin/")
    assert "Subscribers" in page.inner_text("#content")

    visitor.follow(page.locator("#logout-form button"))
    password(visitor, user.username, OPS_PASSWORD)
    assert page.inner_text("h1") == "Two-factor login"
    assert page.locator(".two-factor-qr").count() == 0  # the secret is not shown again
    # A code is good once: the next one is the step after the last used. (django-otp
    # follows the phone's clock drift, so "now + 30 s" may fall outside its window.)
    used = TOTPDevice.objects.get(user=user).last_t
    page.fill("#id_code", code(secret, step=used + 1))
    visitor.follow(page.locator("#two-factor-form input[type=submit]"))
    assert page.url.endswith("/admin/")


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
