"""Who may set up an account's second factor: enrolment links, recovery codes, resets.

- A staff user's first authenticator is enrolled only through a one-time link a
  superuser issues for that user (Admin › Users › the user, or `manage.py
  enrolment_link` from a shell). Only the token's hash is stored; the link is
  shown once, expires after ADMIN_2FA_ENROLMENT_LINK_HOURS, and a newer link for
  the same user replaces it. The link and the user's password together open the
  enrolment step (smsbot.admin_site); the new authenticator's first right code
  confirms it and uses the link up.
- Enrolling gives ADMIN_2FA_RECOVERY_CODES one-time recovery codes (django-otp's
  static device), shown once; each logs in once in place of a code.
- A reset deletes a user's authenticator and recovery codes and issues a new link.

Issuing, enrolling and resetting are recorded in the audit trail.
"""

import secrets
from datetime import timedelta
from hashlib import sha256
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from smsbot import audit
from smsbot.models import EnrolmentLink
from smsbot.timezones import shown
from smsbot.two_factor import confirmed_device

SESSION_KEY = "smsbot_enrolment_link"
RECOVERY_DEVICE_NAME = "Recovery codes"
ASK = "Ask a superuser for a new enrolment link."


class LinkRefused(Exception):
    """Why a link cannot be used, in words for the person holding it."""


def _hash(token: str) -> str:
    return sha256(token.encode()).hexdigest()


def link_url(token: str) -> str:
    # The token rides in the query string: the access log records paths only.
    return f"{settings.PUBLIC_BASE_URL}{reverse('admin:enrol')}?{urlencode({'token': token})}"


def printed(link: EnrolmentLink, token: str) -> str:
    """The link as a command prints it: for one person, once."""
    return (
        f"Enrolment link for {link.user} (works once, with their password, until "
        f"{shown(link.expires_at)}; not shown again):\n{link_url(token)}"
    )


def enrolled(user: AbstractBaseUser) -> bool:
    return confirmed_device(user) is not None


def recovery_codes_left(user: AbstractBaseUser) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def issue_refusal(user: AbstractBaseUser, resetting: bool = False) -> str:
    """Why no link can be issued for this user now (resetting: after deleting their
    devices), or "" when one can."""
    if not user.is_active:
        return f"{user} is not active: activate the account first."
    if not getattr(user, "is_staff", False):
        return f"{user} is not staff: only staff log in to the admin."
    if enrolled(user) and not resetting:
        return f"{user} has set up two-factor login already: reset it to issue a new link."
    return ""


def issue(user: AbstractBaseUser, by: AbstractBaseUser | None) -> tuple[EnrolmentLink, str]:
    """A new link for user (replacing any unused one) and its token, which is not stored.

    by: the superuser issuing it; None from a shell, where the audit entry names
    the user themselves and says so.
    """
    token = secrets.token_urlsafe(32)
    expires = timezone.now() + timedelta(hours=settings.ADMIN_2FA_ENROLMENT_LINK_HOURS)
    with transaction.atomic():
        EnrolmentLink.objects.filter(user=user, used_at__isnull=True).delete()
        link = EnrolmentLink.objects.create(
            user=user, token_hash=_hash(token), issued_by=by, expires_at=expires
        )
        where = "" if by else "from a shell (manage.py enrolment_link); "
        audit.record(
            by or user,
            user,
            "Issued an enrolment link",
            detail=f"{where}valid until {shown(expires)}",
        )
    return link, token


def state(user: AbstractBaseUser) -> str:
    if not enrolled(user):
        return "not set up"
    return f"authenticator app confirmed, {recovery_codes_left(user)} recovery codes left"


def reset(user: AbstractBaseUser, by: AbstractBaseUser | None) -> tuple[EnrolmentLink, str]:
    """Delete the user's authenticator and recovery codes; a new link for them to enrol again."""
    with transaction.atomic():
        before = state(user)
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        where = "" if by else " from a shell (manage.py enrolment_link --reset)"
        audit.record(
            by or user,
            user,
            "Reset two-factor login",
            changes={"two-factor login": (before, "not set up")},
            detail=f"devices deleted{where}; a new enrolment link follows",
        )
        return issue(user, by)


def check(link: EnrolmentLink, user: Any = None) -> None:
    """Raise LinkRefused unless link can still enrol (user, when given: whoever uses it)."""
    if link.used_at is not None:
        raise LinkRefused(f"This enrolment link has been used already. {ASK}")
    if link.expires_at <= timezone.now():
        raise LinkRefused(f"This enrolment link expired at {shown(link.expires_at)}. {ASK}")
    if user is not None and user.pk != link.user_id:
        raise LinkRefused(
            "This enrolment link was issued for another user. Log in with the account it "
            "was issued for, or ask a superuser for a link of your own."
        )
    if enrolled(link.user):
        raise LinkRefused(
            "Two-factor login is set up for this account already: log in with your "
            "authenticator app. Lost it? Ask a superuser to reset your two-factor login."
        )


def find(token: str) -> EnrolmentLink:
    """The link of a token, if it can still enrol; else LinkRefused."""
    links = EnrolmentLink.objects.select_related("user")
    link = links.filter(token_hash=_hash(token)).first() if token else None
    if link is None:
        raise LinkRefused(
            "This enrolment link is not valid: it was mistyped or copied in part, or a "
            f"newer link replaced it. {ASK}"
        )
    check(link)
    return link


def remember(request: HttpRequest, link: EnrolmentLink) -> None:
    """After link + password: this session may enrol (call after auth.login)."""
    request.session[SESSION_KEY] = link.pk


def session_link(request: HttpRequest, lock: bool = False) -> EnrolmentLink:
    """The link this session was opened with, if it can still enrol its user; else LinkRefused.

    lock: hold the link's row until the transaction ends, so that it enrols once.
    """
    pk = request.session.get(SESSION_KEY)
    links = EnrolmentLink.objects.select_related("user")
    if lock:
        links = links.select_for_update(of=("self",))
    link = links.filter(pk=pk).first() if pk else None
    if link is None:
        raise LinkRefused(
            "To set up two-factor login you need an enrolment link: ask a superuser for one, "
            "then open it and log in there."
        )
    check(link, request.user)
    return link


def confirm(request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """The pending device's first code: confirm the device, use the session's link up and
    return the new recovery codes (shown once). None: a wrong code. LinkRefused: the link
    cannot enrol any more (used meanwhile, expired)."""
    user = request.user
    with transaction.atomic():
        link = session_link(request, lock=True)
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
        if not locked.verify_token(code):
            return None
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        codes = new_recovery_codes(user)
        issuer = f"issued by {link.issued_by}" if link.issued_by else "issued from a shell"
        audit.record(
            user,
            locked,
            "Enrolled",
            detail=f"authenticator app confirmed with its first code, through an enrolment "
            f"link {issuer}; {len(codes)} recovery codes given",
            flag=audit.ADDITION,
        )
    request.session.pop(SESSION_KEY, None)
    otp_login(request, locked)
    return codes


def new_recovery_codes(user: AbstractBaseUser) -> list[str]:
    """Replace the user's recovery codes; the codes as shown (abcd-efgh), never again."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    tokens = [StaticToken.random_token() for _ in range(settings.ADMIN_2FA_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=t) for t in tokens)
    return [f"{t[:4]}-{t[4:]}" for t in tokens]
