"""The official twilio REST client, one per thread, pointed at TWILIO_API_BASE_URL.

Twilio serves its APIs from one host per domain (api., pricing., messaging.,
content.twilio.com). With the default TWILIO_API_BASE_URL each domain keeps its
own host; any other value (staging, the tests' local server) is a
Twilio-compatible server that answers for every domain the portal uses, so all
of them are pointed at it.
"""

import threading

from django.conf import settings
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from smsbot.secrets import TwilioCredentials, twilio_credentials

TWILIO_API = "https://api.twilio.com"
# The domains the portal calls: Messages, Pricing, Messaging Services, Content.
DOMAINS = ("api", "pricing", "messaging", "content")

# One client per thread: the client's requests session is not documented thread-safe.
_local = threading.local()


class NotConfigured(Exception):
    """TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not both set."""


def rest_login(credentials: TwilioCredentials) -> tuple[str, str]:
    """The API key (SK... and its secret) when both are set, as Twilio recommends for
    REST calls, so the auth token can rotate; otherwise the account SID and auth token."""
    key_sid, secret = settings.TWILIO_API_KEY_SID, settings.TWILIO_API_KEY_SECRET
    if key_sid and secret:
        return key_sid, secret
    return credentials.account_sid, credentials.auth_token


def client(credentials: TwilioCredentials | None = None) -> Client:
    credentials = credentials or twilio_credentials()
    if not credentials:
        raise NotConfigured("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required")
    login = rest_login(credentials)
    key = (credentials, login, settings.TWILIO_API_BASE_URL, settings.TWILIO_TIMEOUT_SECONDS)
    if getattr(_local, "key", None) != key:
        made = Client(
            username=login[0],
            password=login[1],
            account_sid=credentials.account_sid,
            http_client=TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS),
        )
        if settings.TWILIO_API_BASE_URL != TWILIO_API:
            for name in DOMAINS:
                getattr(made, name).base_url = settings.TWILIO_API_BASE_URL
        _local.key, _local.client = key, made
    return _local.client
