"""Two-factor admin login: a TOTP code from an authenticator app (django-otp).

After the password, a staff user with a confirmed device types its current
code; one without a device enrols first: the page shows a QR code (drawn here
as SVG, nothing fetched from elsewhere) and the secret as text, and the first
good code confirms the device. A session is "verified" once a code was
accepted (django_otp.login); with ADMIN_2FA_REQUIRED the admin site lets no
unverified session in (PortalAdminSite.has_permission). A superuser resets a
lost device by deleting it in Admin › TOTP devices; the next login enrols anew.
"""

from base64 import b32encode

from django import forms
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from smsbot import audit

DEVICE_NAME = "Authenticator app"


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        min_length=6,
        max_length=6,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text="The 6-digit code your authenticator app shows now.",
    )


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


def check_code(request: HttpRequest, device: TOTPDevice, code: str) -> bool:
    """Verify a code (django-otp throttles repeated failures) and mark the session verified.

    The first good code of a pending device confirms it, which is recorded in the
    audit trail.
    """
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not locked.verify_token(code):
            return False
        if not locked.confirmed:
            locked.confirmed = True
            locked.save(update_fields=["confirmed"])
            audit.record(
                request.user,
                locked,
                "Enrolled",
                detail="two-factor device confirmed with its first code",
                flag=audit.ADDITION,
            )
    otp_login(request, locked)
    return True


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else default
