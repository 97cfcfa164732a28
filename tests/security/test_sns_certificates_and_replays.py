"""SigningCertURL cannot make the portal connect anywhere but SNS, and old messages
are refused as replays."""

import datetime as dt
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from messaging.models import Message
from messaging.providers.sns import verification as sns_verify
from subscribers.models import Subscriber
from tests.messaging.webhooks.conftest import post_sns, sns_timestamp

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener() -> Iterator[tuple[int, list[object]]]:
    """A TCP port on loopback that records every connection made to it."""
    connections: list[object] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except OSError:
                continue
            connections.append(peer)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


def ssrf_urls(port: int) -> list[str]:
    host = "sns.us-east-1.amazonaws.com"
    return [
        f"https://127.0.0.1:{port}\\@{host}/SimpleNotificationService-x.pem",
        f"https://127.0.0.1:{port}\\\\@{host}/SimpleNotificationService-x.pem",
        f"https://{host}@127.0.0.1:{port}/SimpleNotificationService-x.pem",
        f"https://user:password@{host}/SimpleNotificationService-x.pem",
        f"https://{host}:{port}/SimpleNotificationService-x.pem",
        f"https://{host}:443/SimpleNotificationService-x.pem",
        f"https://127.0.0.1:{port}/SimpleNotificationService-x.pem",
        f"https://[::1]:{port}/SimpleNotificationService-x.pem",
        "https://[::1/SimpleNotificationService-x.pem",
        f"https://{host}.127.0.0.1.nip.io/SimpleNotificationService-x.pem",
        f"https://{host}\\.127.0.0.1/SimpleNotificationService-x.pem",
        f"https://{host}/SimpleNotificationService-x.pem?next=http://127.0.0.1:{port}/",
        f"https://{host}/SimpleNotificationService-x.pem#fragment",
        f"https://{host}/../SimpleNotificationService-x.pem",
        f"https://{host}/%2e%2e/SimpleNotificationService-x.pem",
        f"https://{host}/a/SimpleNotificationService-x.pem",
        f"https://{host}/SimpleNotificationService-x.pem ",
        f"https://{host}\t/SimpleNotificationService-x.pem",
        f"https://{host}\r\n/SimpleNotificationService-x.pem",
        f"https://{host}\uff0e/SimpleNotificationService-x.pem",
        "https://SNS.US-EAST-1.AMAZONAWS.COM/SimpleNotificationService-x.pem",
        f"http://{host}/SimpleNotificationService-x.pem",
        f"//{host}/SimpleNotificationService-x.pem",
        "file:///etc/ssl/certs/SimpleNotificationService-x.pem",
        f"gopher://127.0.0.1:{port}/_x.pem",
        "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-x.pem",
        "https://evil.example/sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
        f"https://{host}/SimpleNotificationService-x.pem.exe",
        "",
    ]


def reasons(caplog) -> list[str]:
    return [
        r.getMessage().removeprefix("rejected an SNS message: ")
        for r in caplog.records
        if r.getMessage().startswith("rejected an SNS message")
    ]


def test_signing_cert_urls_that_lead_elsewhere_are_refused_without_a_connection(
    client, sns_signer, settings, listener, caplog, probe
):
    caplog.set_level(logging.WARNING)
    # Production: no emulator, the certificate would be fetched from the URL's host.
    settings.AWS_ENDPOINT_URL = ""
    port, connections = listener
    urls = ssrf_urls(port)
    for url in urls:
        envelope = sns_signer.inbound_sms("STOP")
        envelope["SigningCertURL"] = url
        assert probe.attack(post_sns(client, envelope)).status_code == 403, url
    assert connections == []
    refused = reasons(caplog)
    assert len(refused) == len(urls) and all("SigningCertURL" in r for r in refused), refused
    assert not Message.objects.exists() and not Subscriber.objects.exists()


def test_the_certificate_is_fetched_from_the_url_rebuilt_from_its_checked_parts(settings):
    settings.AWS_ENDPOINT_URL = ""
    url = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-01ab.pem"
    assert sns_verify.certificate_fetch_url(url) == url
    china = "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-01ab.pem"
    assert sns_verify.certificate_fetch_url(china) == china
    # The emulator serves it at the same path.
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:5055/"
    assert sns_verify.certificate_fetch_url(url) == (
        "http://127.0.0.1:5055/SimpleNotificationService-01ab.pem"
    )


@pytest.fixture
def failing_cert_server() -> Iterator[tuple[str, list[str]]]:
    """An emulator that knows no certificate (404), recording each path asked for."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", asked
    server.shutdown()
    server.server_close()


def test_a_certificate_that_cannot_be_loaded_is_not_asked_for_again_at_once(
    client, sns_signer, settings, failing_cert_server, probe
):
    settings.AWS_ENDPOINT_URL, asked = failing_cert_server
    for _ in range(20):
        probe.attack(post_sns(client, sns_signer.inbound_sms("STOP")))
    assert asked == [sns_signer.cert_path]
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "timestamp",
    [
        sns_timestamp(dt.timedelta(hours=2)),
        sns_timestamp(dt.timedelta(days=30)),
        "2026-11-29T05:00:00",
        "yesterday",
        "",
    ],
)
def test_an_old_or_undated_message_is_refused_as_a_replay(
    client, sns_signer, timestamp, caplog, probe
):
    caplog.set_level(logging.WARNING)
    envelope = sns_signer.notification(
        "arn:aws:sns:us-east-1:123456789012:bot-sms-inbound",
        {"originationNumber": "+13125550123", "messageBody": "STOP", "inboundMessageId": "m1"},
        Timestamp=timestamp,
    )
    assert probe.attack(post_sns(client, envelope)).status_code == 403
    assert "Timestamp" in reasons(caplog)[0] or "an hour old" in reasons(caplog)[0]
    assert not Message.objects.exists() and not Subscriber.objects.exists()


def test_a_message_within_the_hour_of_sns_retries_is_accepted(client, sns_signer):
    envelope = sns_signer.inbound_sms("STOP")
    envelope = sns_signer.sign(
        {
            **{k: v for k, v in envelope.items() if "Sign" not in k},
            "Timestamp": sns_timestamp(dt.timedelta(minutes=50)),
        }
    )
    assert post_sns(client, envelope).status_code == 200
    assert Subscriber.objects.get().consent_status == "opted_out"
