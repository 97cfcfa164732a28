"""Verification of SNS HTTP(S) messages: the signature, the certificate's origin, the topic.

The string to sign and the certificate rules follow AWS's "Verifying the
signatures of Amazon SNS messages". When AWS_ENDPOINT_URL points at an
emulator, the certificate is fetched from it at the SigningCertURL's path, in a
request signed for "sns" so that the emulator routes it (moto's server does so).
"""

import base64
import binascii
import re
import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings

from smsbot.aws import resource_name
from smsbot.aws_names import INBOUND_TOPIC

_CERT_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
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
_FETCH_TIMEOUT = 5


class SNSVerificationError(Exception):
    """The message is not provably from SNS for one of our topics; str(exc) says why."""


class _CertificateCache:
    """Public keys by certificate URL, in process: SNS rotates certificates rarely."""

    def __init__(self, size: int) -> None:
        self._keys: OrderedDict[str, rsa.RSAPublicKey] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, url: str) -> rsa.RSAPublicKey:
        with self._lock:
            if url in self._keys:
                self._keys.move_to_end(url)
                return self._keys[url]
        key = _download(url)
        with self._lock:
            self._keys[url] = key
            while len(self._keys) > self._size:
                self._keys.popitem(last=False)
        return key

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


certificates = _CertificateCache(_CERT_CACHE_SIZE)


def topic_kind(topic_arn: str) -> str:
    """INBOUND_TOPIC, the one topic the portal subscribes to; raises for any other."""
    if topic_arn.rsplit(":", 1)[-1] == resource_name(INBOUND_TOPIC):
        return INBOUND_TOPIC
    raise SNSVerificationError("topic is not one the portal provisioned")


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
    """Where to download the certificate from, after checking it is an SNS certificate URL."""
    parts = urlsplit(cert_url)
    host = (parts.hostname or "").lower()
    emulator = urlsplit(settings.AWS_ENDPOINT_URL) if settings.AWS_ENDPOINT_URL else None
    if parts.scheme != "https" or not parts.path.endswith(".pem"):
        raise SNSVerificationError("SigningCertURL must be an https URL of a .pem file")
    if not _CERT_HOST.match(host) and not (emulator and host == emulator.hostname):
        raise SNSVerificationError("SigningCertURL is not an SNS host")
    if emulator:
        return f"{settings.AWS_ENDPOINT_URL.rstrip('/')}{parts.path}"
    return cert_url


def verify(envelope: dict[str, Any]) -> None:
    """Raise SNSVerificationError unless SNS signed envelope for one of our topics."""
    topic_kind(str(envelope.get("TopicArn", "")))
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


def _download(url: str) -> rsa.RSAPublicKey:
    headers = _emulator_headers(url) if settings.AWS_ENDPOINT_URL else {}
    try:
        response = requests.get(url, headers=headers, timeout=_FETCH_TIMEOUT)
        response.raise_for_status()
        key = x509.load_pem_x509_certificate(response.content).public_key()
    except (requests.RequestException, ValueError) as exc:
        raise SNSVerificationError(f"cannot load the signing certificate: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise SNSVerificationError("the signing certificate is not RSA")
    return key
