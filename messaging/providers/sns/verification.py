"""Verification of SNS HTTP(S) messages: the age, the topic, the certificate, the signature.

The string to sign and the certificate rules follow AWS's "Verifying the
signatures of Amazon SNS messages" (fetch the certificate over HTTPS from SNS
only; reject any message with an unexpected TopicArn). A topic is ours only by
its full ARN: partition, AWS_REGION, our account (AWS_ACCOUNT_ID, or STS
GetCallerIdentity asked once) and the prefixed name; anyone can create a topic
with our topic's name in their own account and subscribe our URL to it.

A message whose Timestamp (when SNS published it, per "HTTP/HTTPS notification
JSON format") is more than an hour old is refused as a replay: SNS retries an
HTTP(S) delivery for at most 3,600 seconds, a hard limit ("Amazon SNS message
delivery retries").

When AWS_ENDPOINT_URL points at an emulator, the certificate is fetched from it
at the SigningCertURL's path, in a request signed for "sns" so that the
emulator routes it (moto's server does so).
"""

import base64
import binascii
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import UnknownRegionError
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.utils import timezone

from smsbot import aws
from smsbot.aws import resource_name
from smsbot.aws_names import INBOUND_TOPIC, SES_FEEDBACK_TOPIC, SMS_EVENTS_TOPIC

# https://sns.<region>.amazonaws.com[.cn]/<name>.pem and nothing else: no userinfo,
# no port, no query, one path segment.
_CERT_HOST = re.compile(r"sns\.[a-z]{2}(-[a-z]+)+-[0-9]\.amazonaws\.com(\.cn)?")
_CERT_PATH = re.compile(r"/[A-Za-z0-9][A-Za-z0-9._-]*\.pem")
_SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
    ),
}  # fmt: skip
_OPTIONAL = {"Subject"}
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
_CERT_CACHE_SIZE = 32
_MAX_CERT_BYTES = 64 * 1024
_FETCH_TIMEOUT = 5
# A failed download or account lookup is not tried again for this long, so a flood
# of bad messages cannot make every webhook wait on the network.
_FAILURE_SECONDS = 60
MAX_AGE = timedelta(hours=1)
# Our clock and SNS's may disagree a little.
CLOCK_SKEW = timedelta(minutes=5)


class SNSVerificationError(Exception):
    """The message is not provably from SNS for one of our topics; str(exc) says why."""


class ForeignTopic(SNSVerificationError):
    """The topic is not one the portal provisioned."""


class _Memo:
    """load(key) remembered in process: values (the newest size of them) until cleared,
    failures for _FAILURE_SECONDS."""

    def __init__(self, size: int, load: Callable[[Any], Any]) -> None:
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._failures: OrderedDict[Hashable, tuple[float, str]] = OrderedDict()
        self._size = size
        self._load = load
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            failed = self._failures.get(key)
            if failed and failed[0] > time.monotonic():
                raise SNSVerificationError(failed[1])
        try:
            value = self._load(key)
        except SNSVerificationError as exc:
            with self._lock:
                self._failures[key] = (time.monotonic() + _FAILURE_SECONDS, str(exc))
                self._failures.move_to_end(key)
                while len(self._failures) > 32 * self._size:
                    self._failures.popitem(last=False)
            raise
        with self._lock:
            self._values[key] = value
            self._failures.pop(key, None)
            while len(self._values) > self._size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._failures.clear()


def _caller_account(key: tuple[str, str]) -> str:
    """The account STS says we are in (smsbot.aws.account_id, which keeps it); the memo
    adds a short memory of failures. key (endpoint, region) only tells the memo apart."""
    try:
        return aws.account_id()
    # Whatever fails (no credentials, no network, an answer botocore cannot parse),
    # no topic can be proven ours: the message is refused, not answered with a 500.
    except Exception as exc:
        raise SNSVerificationError(
            f"cannot tell which AWS account the topics belong to (set AWS_ACCOUNT_ID): {exc}"
        ) from exc


def _download(url: str) -> rsa.RSAPublicKey:
    headers = _emulator_headers(url) if settings.AWS_ENDPOINT_URL else {}
    try:
        with requests.get(
            url, headers=headers, timeout=_FETCH_TIMEOUT, allow_redirects=False, stream=True
        ) as response:
            if response.status_code != 200:
                raise SNSVerificationError(
                    f"cannot load the signing certificate: HTTP {response.status_code}"
                )
            pem = response.raw.read(_MAX_CERT_BYTES + 1, decode_content=True)
        if len(pem) > _MAX_CERT_BYTES:
            raise SNSVerificationError("the signing certificate is implausibly large")
        key = x509.load_pem_x509_certificate(pem).public_key()
    except (requests.RequestException, ValueError) as exc:
        raise SNSVerificationError(f"cannot load the signing certificate: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise SNSVerificationError("the signing certificate is not RSA")
    return key


certificates = _Memo(_CERT_CACHE_SIZE, _download)
accounts = _Memo(4, _caller_account)


@lru_cache(maxsize=8)
def _partition(region: str) -> str:
    try:
        return boto3.session.Session().get_partition_for_region(region)
    except UnknownRegionError as exc:
        raise SNSVerificationError(f"AWS_REGION {region!r} is not a region AWS knows") from exc


def portal_topics() -> dict[str, str]:
    """The full ARN of each topic the portal subscribes to, and its kind.

    The inbound topic, and the events topic End User Messaging SMS's configuration
    set publishes delivery events to (aws-sms). SNS itself never publishes SMS
    delivery statuses to a topic (they come from CloudWatch Logs, delivery_logs.py),
    so the sms-delivery-status topic of older versions is not the portal's any more.
    """
    region = settings.AWS_REGION
    account = settings.AWS_ACCOUNT_ID or accounts.get((settings.AWS_ENDPOINT_URL, region))
    prefix = f"arn:{_partition(region)}:sns:{region}:{account}:"
    topics = {prefix + resource_name(name): name for name in (INBOUND_TOPIC, SMS_EVENTS_TOPIC)}
    if settings.EMAIL_FROM:
        # SES's bounce and complaint notifications, for /webhooks/ses/.
        topics[prefix + resource_name(SES_FEEDBACK_TOPIC)] = SES_FEEDBACK_TOPIC
    return topics


def topic_kind(topic_arn: str, expect: tuple[str, ...] = ()) -> str:
    """The kind of one of the portal's topics (INBOUND_TOPIC, SMS_EVENTS_TOPIC,
    SES_FEEDBACK_TOPIC); raises ForeignTopic for any other, and, with expect, for any
    but those (each webhook takes its own)."""
    kind = portal_topics().get(topic_arn)
    if kind is None or (expect and kind not in expect):
        raise ForeignTopic(f"topic {topic_arn[:200]!r} is not one the portal provisioned here")
    return kind


def check_age(envelope: dict[str, Any], now: datetime) -> None:
    """Refuse a message published more than an hour ago (a replay)."""
    try:
        published = datetime.fromisoformat(str(envelope.get("Timestamp", "")))
    except ValueError as exc:
        raise SNSVerificationError("Timestamp is not an ISO 8601 time") from exc
    if published.tzinfo is None:
        raise SNSVerificationError("Timestamp has no time zone")
    if now - published > MAX_AGE + CLOCK_SKEW:
        raise SNSVerificationError("the message is more than an hour old (a replay?)")


def string_to_sign(envelope: dict[str, Any]) -> bytes:
    fields = _SIGNED_FIELDS.get(envelope.get("Type", ""))
    if fields is None:
        raise SNSVerificationError("unknown message type")
    lines = []
    for name in fields:
        value = envelope.get(name)
        if value is None and name in _OPTIONAL:
            continue
        if not isinstance(value, str):
            raise SNSVerificationError(f"{name} is missing")
        lines.append(f"{name}\n{value}\n")
    return "".join(lines).encode("utf-8", "surrogatepass")


def certificate_fetch_url(cert_url: str) -> str:
    """Where to download the certificate from, rebuilt from the checked parts of cert_url."""
    # Refused on the raw text first: URL parsers disagree about backslashes and "@"
    # (urlsplit saw an SNS host where urllib3 connected to the one before "\@").
    if not (cert_url.isascii() and cert_url.isprintable()) or any(c in cert_url for c in "\\@ "):
        raise SNSVerificationError("SigningCertURL has characters no SNS certificate URL has")
    try:
        parts = urlsplit(cert_url)
    except ValueError as exc:
        raise SNSVerificationError("SigningCertURL is not a URL") from exc
    if parts.scheme != "https" or parts.query or parts.fragment:
        raise SNSVerificationError("SigningCertURL must be a plain https URL")
    if not _CERT_HOST.fullmatch(parts.netloc):
        raise SNSVerificationError("SigningCertURL is not https://sns.<region>.amazonaws.com")
    if not _CERT_PATH.fullmatch(parts.path):
        raise SNSVerificationError("SigningCertURL is not a .pem file")
    if settings.AWS_ENDPOINT_URL:
        return f"{settings.AWS_ENDPOINT_URL.rstrip('/')}{parts.path}"
    return f"https://{parts.netloc}{parts.path}"


# What /webhooks/sns/ takes: two-way SMS, and End User Messaging SMS's delivery events.
SMS_TOPICS = (INBOUND_TOPIC, SMS_EVENTS_TOPIC)


def verify(envelope: dict[str, Any], expect: tuple[str, ...] = SMS_TOPICS) -> None:
    """Raise SNSVerificationError unless SNS signed envelope for one of our topics
    expect, lately."""
    check_age(envelope, timezone.now())
    topic_kind(str(envelope.get("TopicArn", "")), expect)
    if not settings.SNS_VERIFY_SIGNATURES:
        return
    algorithm = _HASHES.get(str(envelope.get("SignatureVersion", "")))
    if algorithm is None:
        raise SNSVerificationError("unsupported SignatureVersion")
    try:
        signature = base64.b64decode(str(envelope.get("Signature", "")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SNSVerificationError("Signature is not base64") from exc
    data = string_to_sign(envelope)
    key = certificates.get(certificate_fetch_url(str(envelope.get("SigningCertURL", ""))))
    try:
        key.verify(signature, data, padding.PKCS1v15(), algorithm())
    except InvalidSignature as exc:
        raise SNSVerificationError("signature does not match") from exc


def _emulator_headers(url: str) -> dict[str, str]:
    """A SigV4 signature for "sns": how an emulator (moto's server) tells services apart."""
    credentials = boto3.Session().get_credentials()
    if credentials is None:
        return {}
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(credentials, "sns", settings.AWS_REGION).add_auth(request)
    return dict(request.headers)
