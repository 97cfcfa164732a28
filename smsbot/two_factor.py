"""Two-factor admin login: a TOTP code from an authenticator app (django-otp).

After the password, a staff user with a confirmed device types its current
code, or one of their one-time recovery codes. With ADMIN_2FA_REQUIRED a staff
user without a confirmed device is not logged in at all (LoginForm): the first
device is enrolled only through a superuser's enrolment link (smsbot.enrolment),
on a page that shows a QR code (drawn here as SVG, nothing fetched from
elsewhere) and the secret as text. A session is "verified" once a code was
accepted (django_otp.login); with ADMIN_2FA_REQUIRED the admin site lets no
unverified session in (PortalAdminSite.has_permission).
"""

from base64 import b32encode

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from smsbot import audit

DEVICE_NAME = "Authenticator app"


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        min_length=6,
        max_length=20,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "autofocus": True}
        ),
        help_text="The 6-digit code your authenticator app shows now, or one of your "
        "recovery codes.",
    )


NOT_ENROLLED = (
    "Two-factor login is not set up for this account yet. Ask a superuser for an "
    "enrolment link, open it, and log in there to set up your authenticator app."
)


class LoginForm(AdminAuthenticationForm):
    """The admin's password step: while two-factor login is required, a staff user without
    a confirmed device is refused, so a password alone can never enrol one."""

    def confirm_login_allowed(self, user: AbstractBaseUser) -> None:
        super().confirm_login_allowed(user)
        if settings.ADMIN_2FA_REQUIRED and confirmed_device(user) is None:
            raise ValidationError(NOT_ENROLLED, code="not_enrolled")


def is_staff(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_active and getattr(user, "is_staff", False))


def is_verified(user: AbstractBaseUser | AnonymousUser) -> bool:
    # django-otp's middleware gives request.user is_verified(); a user logged in
    # during this very request (auth.login replaces request.user) has not been.
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def needs_second_factor(request: HttpRequest) -> bool:
    """A staff session that must still give a code before the admin lets it in."""
    return settings.ADMIN_2FA_REQUIRED and is_staff(request.user) and not is_verified(request.user)


def confirmed_device(user: AbstractBaseUser) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def pending_device(user: AbstractBaseUser) -> TOTPDevice:
    """The device being enrolled: the same secret until its first code confirms it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it when typed in (base32, in groups of 4)."""
    text = b32encode(device.bin_key).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qrcode_svg(device: TOTPDevice) -> HttpResponse:
    response = HttpResponse(content_type="image/svg+xml")
    write_qrcode_image(device.config_url, response)
    return response


def verify(request: HttpRequest, code: str) -> TOTPDevice | StaticDevice | None:
    """Check a code (6 digits: the authenticator's; else a recovery code, used up) and mark
    the session verified; the device that accepted it, or None. django-otp throttles
    repeated failures of each device."""
    user = request.user
    if code.isdigit() and len(code) == 6:
        devices, token = TOTPDevice.objects.filter(confirmed=True), code
    else:
        devices, token = StaticDevice.objects.filter(confirmed=True), code.replace("-", "")
        token = "".join(token.split()).lower()
    device = devices.filter(user=user).order_by("pk").first()
    if device is None:
        return None
    with transaction.atomic():
        # Locked: two requests with one recovery code must not both log in.
        locked = type(device).objects.select_for_update().get(pk=device.pk)
        if not locked.verify_token(token):
            return None
        if isinstance(locked, StaticDevice):
            left = locked.token_set.count()
            audit.record(user, user, "Logged in with a recovery code", detail=f"{left} left")
    otp_login(request, locked)
    return locked


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else default
