"""The phone-number hash has its own key (PHONE_HASH_SALT): rotating DJANGO_SECRET_KEY
keeps an erased number's consent history findable by the number."""

import hashlib
import hmac

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from smsbot.redaction import redact_secrets
from subscribers.consent import phone_hash
from tests.subscribers.test_erasure import erase

PHONE = "+13125550123"
HISTORY = reverse("admin:subscribers_consentevent_changelist")


def found(client, number: str) -> int:
    return len(client.get(HISTORY, {"q": number}).context["cl"].result_list)


def deploy_warnings(settings) -> str:
    settings.WEBHOOK_TOKEN = "t" * 32
    try:
        call_command("check", "--deploy", "--fail-level", "WARNING")
    except SystemCheckError as failed:
        return str(failed)
    return ""


def test_unset_the_hash_is_keyed_by_the_secret_key_as_before(settings):
    settings.PHONE_HASH_SALT = ""
    old = hmac.new(settings.SECRET_KEY.encode(), PHONE.encode(), hashlib.sha256).hexdigest()
    assert phone_hash(PHONE) == old
    settings.PHONE_HASH_SALT = "a-salt-of-its-own-0123456789"
    assert phone_hash(PHONE) != old


@pytest.mark.django_db
def test_the_salt_set_to_the_old_key_survives_a_key_rotation(
    admin_client, admin_user, subscribe, settings
):
    settings.PHONE_HASH_SALT = ""
    old_key = settings.SECRET_KEY
    sub = subscribe(PHONE)
    assert erase(admin_client, sub).status_code == 302
    assert found(admin_client, "(312) 555-0123") == 2

    # What the warning tells the operator to do, then the rotation.
    settings.PHONE_HASH_SALT = old_key
    settings.SECRET_KEY = "a-brand-new-secret-key-after-rotation-0123456789"
    admin_client.force_login(admin_user)  # sessions are signed with the old key
    assert found(admin_client, "(312) 555-0123") == 2

    # Without the salt, the same rotation loses the history: what the warning prevents.
    settings.PHONE_HASH_SALT = ""
    assert found(admin_client, "(312) 555-0123") == 0


def test_check_deploy_warns_while_the_salt_is_unset(settings):
    settings.PHONE_HASH_SALT = ""
    warned = deploy_warnings(settings)
    assert "smsbot.W027" in warned and "PHONE_HASH_SALT" in warned
    assert "DJANGO_SECRET_KEY" in warned
    settings.PHONE_HASH_SALT = "a-salt-of-its-own-0123456789"
    assert "smsbot.W027" not in deploy_warnings(settings)


def test_the_salt_never_reaches_a_log_line(settings):
    settings.PHONE_HASH_SALT = "a-salt-of-its-own-0123456789"
    assert redact_secrets("salt a-salt-of-its-own-0123456789") == "salt [redacted]"
