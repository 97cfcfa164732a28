"""The steps of two-factor login over HTTP, as a person takes them.

Codes are computed from the secret the enrolment page shows, the way an
authenticator app does (RFC 6238 TOTP, django-otp's own implementation).
"""

import re
import time
from base64 import b32decode, b32encode
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from smsbot import enrolment
from tests.security.conftest import PASSWORD

LOGIN, INDEX = reverse("admin:login"), reverse("admin:index")
TWO_FACTOR = reverse("admin:two_factor")


def code(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for this secret (optionally a later step's code)."""
    totp = TOTP(b32decode(secret.replace(" ", "")))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def wrong(secret: str) -> str:
    return "000000" if code(secret) != "000000" else "111111"


def secret_of(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode()


def password_step(username: str, password: str = PASSWORD) -> tuple[Client, object]:
    client = Client()
    response = client.post(LOGIN, {"username": username, "password": password, "next": INDEX})
    return client, response


def shown_secret(page: str) -> str:
    return re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', page)[1]


def shown_codes(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4})</code></li>", page)


def shown_link(page: str) -> str:
    """The enrolment link a superuser's page or a command shows, as a path and query."""
    url = re.search(r"(https?://\S+/admin/enrol/\?token=[\w-]+)", page)[1]
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def issued_link(user: User) -> str:
    """A link for user, as if a superuser had issued it (the issuing has tests of its own)."""
    _, token = enrolment.issue(user, None)
    return shown_link(enrolment.link_url(token))


def open_link(link: str, username: str, password: str = PASSWORD, client: Client | None = None):
    """Open an enrolment link and log in on it; the client and the answer to the login."""
    client = client or Client()
    token = link.split("token=", 1)[1]
    response = client.post(link, {"token": token, "username": username, "password": password})
    return client, response


@dataclass
class Enrolled:
    client: Client  # logged in and verified
    secret: str
    codes: list[str]


def enrol(user: User, link: str | None = None) -> Enrolled:
    """Link + password + the new authenticator's first code, all over HTTP."""
    client, response = open_link(link or issued_link(user), user.get_username())
    assert response.status_code == 302 and response.url.startswith(TWO_FACTOR), response
    secret = shown_secret(client.get(response.url).content.decode())
    done = client.post(response.url, {"code": code(secret)})
    assert done.status_code == 200, done
    return Enrolled(client, secret, shown_codes(done.content.decode()))


def verified_superuser(username: str = "root") -> Client:
    """A superuser logged in with password and code (their device made directly)."""
    root = User.objects.create_superuser(username, f"{username}@example.test", PASSWORD)
    device = TOTPDevice.objects.create(user=root, name="root", confirmed=True)
    client, response = password_step(root.username)
    assert response.url.startswith(TWO_FACTOR)
    assert client.post(TWO_FACTOR, {"code": code(secret_of(device))}).url == INDEX
    return client
