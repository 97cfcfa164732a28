"""Signed requests to the webhooks: Twilio's own RequestValidator, and an SNS signer
with its own key and certificate served over HTTP like SNS serves its certificates."""

import base64
import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.test import Client
from twilio.request_validator import RequestValidator

from messaging.providers.sns import verification as sns_verify

AUTH_TOKEN = "test-twilio-auth-token-0123456789"
FORM = "application/x-www-form-urlencoded"
OUR_NUMBER = "+13125550100"
ACCOUNT = "123456789012"
INBOUND_TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:bot-sms-inbound"
STATUS_TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:sms-delivery-status"


def sns_timestamp(age: dt.timedelta = dt.timedelta(0)) -> str:
    """SNS's Timestamp for a message published age ago."""
    return (dt.datetime.now(dt.UTC) - age).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


class TwilioPoster:
    """Posts form bodies the way Twilio does, signed with the auth token."""

    def __init__(self, client: Client, base_url: str) -> None:
        self.client = client
        self.base_url = base_url

    def signature(self, path: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
        return RequestValidator(token).compute_signature(self.base_url + path, params)

    def post(self, path: str, params: dict[str, str], *, signature: str | None = None, **extra):
        sig = self.signature(path, params) if signature is None else signature
        headers = {"HTTP_X_TWILIO_SIGNATURE": sig} if sig else {}
        return self.client.post(path, urlencode(params), content_type=FORM, **headers, **extra)

    def inbound(self, body: str, sender: str = "+13125550123", sid: str | None = None, **more):
        params = {
            "MessageSid": sid or new_sid(),
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": ("whatsapp:" if sender.startswith("whatsapp:") else "") + OUR_NUMBER,
            "Body": body,
            "NumMedia": "0",
            **more,
        }
        return self.post("/webhooks/twilio/inbound/", params)

    def status(self, sid: str, status: str, **more: str):
        params = {"MessageSid": sid, "MessageStatus": status, "To": "+13125550123", **more}
        return self.post("/webhooks/twilio/status/", params)


@pytest.fixture
def twilio(client: Client, settings: Any) -> TwilioPoster:
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_VALIDATE_SIGNATURES = True
    return TwilioPoster(client, settings.PUBLIC_BASE_URL)


@pytest.fixture
def portal_answers(settings: Any) -> None:
    """Twilio's own opt-out handling is off (a short code): the portal answers
    STOP/START/HELP on SMS itself, as these tests of its answers expect."""
    settings.TWILIO_OPT_OUT_HANDLING = "portal"


def aws_string_to_sign(envelope: dict[str, str]) -> bytes:
    """Written from AWS's documentation, independently of the portal's code."""
    if envelope["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{n}\n{envelope[n]}\n" for n in names if n in envelope).encode()


class SnsSigner:
    """Signs envelopes as SNS does; its certificate is served at cert_path."""

    def __init__(self, key: rsa.RSAPrivateKey, cert_path: str) -> None:
        self.key = key
        self.cert_path = cert_path

    def sign(self, envelope: dict[str, str], version: str = "2") -> dict[str, str]:
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
        signature = self.key.sign(aws_string_to_sign(envelope), padding.PKCS1v15(), algorithm)
        return {
            **envelope,
            "SignatureVersion": version,
            "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": f"https://sns.us-east-1.amazonaws.com{self.cert_path}",
        }

    def notification(self, topic_arn: str, message: Any, **more: str) -> dict[str, str]:
        text = message if isinstance(message, str) else json.dumps(message)
        return self.sign(
            {
                "Type": "Notification",
                "MessageId": str(uuid.uuid4()),
                "TopicArn": topic_arn,
                "Message": text,
                "Timestamp": sns_timestamp(),
                "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                **more,
            }
        )

    def inbound_sms(self, body: str, sender: str = "+13125550123", **more: Any) -> dict:
        message = {
            "originationNumber": sender,
            "destinationNumber": OUR_NUMBER,
            "messageKeyword": "KEYWORD_" + ACCOUNT,
            "messageBody": body,
            "inboundMessageId": str(uuid.uuid4()),
            "previousPublishedMessageId": str(uuid.uuid4()),
            **more,
        }
        return self.notification(INBOUND_TOPIC_ARN, message)


def self_signed_certificate(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="session")
def sns_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def cert_server(sns_key: rsa.RSAPrivateKey) -> Iterator[tuple[str, dict[str, int]]]:
    """Serves the signer's certificate at any *.pem path; counts the downloads."""
    pem = self_signed_certificate(sns_key)
    downloads = {"count": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if not self.path.endswith(".pem"):
                self.send_error(404)
                return
            downloads["count"] += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/x-pem-file")
            self.send_header("Content-Length", str(len(pem)))
            self.end_headers()
            self.wfile.write(pem)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", downloads
    server.shutdown()


@pytest.fixture
def sns_signer(
    cert_server: tuple[str, dict[str, int]], sns_key: rsa.RSAPrivateKey, settings: Any
) -> SnsSigner:
    """AWS_ENDPOINT_URL points at the certificate server, as it would at an emulator."""
    settings.AWS_ENDPOINT_URL = cert_server[0]
    settings.AWS_ACCOUNT_ID = ACCOUNT
    settings.SNS_VERIFY_SIGNATURES = True
    sns_verify.certificates.clear()
    return SnsSigner(sns_key, f"/SimpleNotificationService-{uuid.uuid4().hex}.pem")


def post_sns(client: Client, envelope: Any):
    body = envelope if isinstance(envelope, bytes | str) else json.dumps(envelope)
    return client.post(
        "/webhooks/sns/",
        body,
        content_type="text/plain; charset=utf-8",
        HTTP_X_AMZ_SNS_MESSAGE_TYPE=envelope.get("Type", "") if isinstance(envelope, dict) else "",
    )
