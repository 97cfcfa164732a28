"""E-mail through moto's SES v2: the sender's identity, the sent mail, the links in it.

moto's sesv2 keeps what SendEmail sent (/moto-api/data.json, ses.RawMessage) but has
no GetAccount: the account's MaxSendRate is given to the portal's cache here, as
messaging.providers.ses.quota would have read it (a production account's 14/s).
"""

import email
import re
from email.message import Message as MimeMessage
from typing import Any

import pytest
import requests
from django.core.cache import cache

from messaging.providers.ses import quota
from smsbot import aws
from smsbot.aws import resource_name
from smsbot.aws_names import SES_CONFIGURATION_SET
from tests.messaging.pipeline.conftest import twilio  # noqa: F401 - the fake Twilio
from tests.messaging.webhooks.conftest import (  # noqa: F401 - fixtures used here too
    cert_server,
    sns_key,
    sns_signer,
)
from tests.mirror.conftest import sync_on, tables  # noqa: F401 - the mirror's, used here too

SENDER = "Daily Word <daily@example.com>"
POSTAL = "1 Example Plaza, Chicago, IL 60601"


@pytest.fixture
def email_on(aws: str, settings: Any) -> str:
    settings.EMAIL_FROM = SENDER
    settings.EMAIL_POSTAL_ADDRESS = POSTAL
    settings.SMS_PROVIDER = "console"
    settings.CONSOLE_DELIVERY_REPORTS = False
    settings.PUBLIC_BASE_URL = "https://portal.example.com"
    settings.QUIET_HOURS = ""
    ses = aws_client()
    ses.create_email_identity(EmailIdentity="example.com")
    ses.create_configuration_set(ConfigurationSetName=resource_name(SES_CONFIGURATION_SET))
    cache.set(quota.CACHE_KEY, 14.0, quota.CACHE_SECONDS)
    return aws


def aws_client() -> Any:
    return aws.client("sesv2")


def sent_mail(moto_url: str, to: str = "") -> list[MimeMessage]:
    """Every e-mail moto's SES took, parsed; only those to `to` when given."""
    data = requests.get(f"{moto_url}/moto-api/data.json", timeout=10).json()["ses"]
    found = []
    for raw in data.get("RawMessage", []):
        mime = email.message_from_string(raw["raw_data"])
        if not to or to in mime.get("To", ""):
            found.append(mime)
    return found


def text_part(mime: MimeMessage) -> str:
    for part in mime.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text/plain part")


def link(mime: MimeMessage, path: str) -> str:
    """The path of the first link in the e-mail's text that starts with path."""
    match = re.search(rf"https://portal\.example\.com({re.escape(path)}[^\s>]+/)", text_part(mime))
    assert match, f"no {path} link in the e-mail"
    return match.group(1)
