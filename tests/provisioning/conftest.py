"""Fixtures for the provisioning commands: run them, read moto's state, deny one action."""

from __future__ import annotations

import http.client
import io
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.fakes.aws_sms_server import FakeSmsVoice, SpendLimit
from tests.fakes.faulty_proxy import FaultyProxy
from tests.fakes.ses_account import SesAccount
from tests.fakes.sns_sandbox import SnsSandbox

ORIGINATION_NUMBER = "+13125550100"


@dataclass
class Run:
    out: str
    error: str | None

    def lines(self, action: str) -> list[str]:
        return [line for line in self.out.splitlines() if line.startswith(f"{action} ")]

    def checks(self, mark: str) -> list[str]:
        return [line for line in self.out.splitlines() if line.startswith(f"{mark} ")]


def run(command: str, *args: str) -> Run:
    out = io.StringIO()
    try:
        call_command(command, *args, stdout=out)
    except CommandError as exc:
        return Run(out.getvalue(), str(exc))
    return Run(out.getvalue(), None)


def provision(*args: str) -> Run:
    result = run("provision_aws", *args)
    assert result.error is None, f"{result.out}\n{result.error}"
    return result


@pytest.fixture
def sns_sandbox() -> SnsSandbox:
    """The SNS sandbox state; the `aws` fixture below serves it (a new account's)."""
    return SnsSandbox()


@pytest.fixture
def ses_account() -> SesAccount:
    """What moto's SES v2 lacks (the account, Easy DKIM, event destinations); a new
    account's, served by the `aws` fixture below."""
    return SesAccount()


@pytest.fixture
def aws(
    aws: str,
    settings: Any,
    aws_sms: FakeSmsVoice,
    sns_sandbox: SnsSandbox,
    ses_account: SesAccount,
) -> Iterator[str]:
    """A fresh account as the commands see it: moto behind the SNS sandbox and the SES
    account model, and End User Messaging SMS from its fake server."""
    # A public https URL, so the SNS subscription is created, and alert addresses.
    settings.PUBLIC_BASE_URL = "https://portal.example.com"
    settings.BUDGET_ALERT_EMAIL = "ops@example.com"
    settings.ALERT_EMAILS = ["ops@example.com", "oncall@example.com"]
    # A quota above SMS_MONTHLY_SPEND_LIMIT_USD (100), so that the limit is the setting's;
    # the tests of a new account's 1 USD quota set it back.
    aws_sms.spend_limit = SpendLimit(enforced=1000, maximum=1000)
    # The number people text, whose two-way provision_aws switches on.
    aws_sms.add_phone_number(ORIGINATION_NUMBER, "TOLL_FREE")
    with FaultyProxy(aws, answers=sns_sandbox, rest=ses_account) as proxy:
        settings.AWS_ENDPOINT_URL = proxy.url
        yield proxy.url


def moto_data(url: str) -> dict:
    return requests.get(f"{url}/moto-api/data.json", timeout=10).json()


@pytest.fixture
def deny(aws: str, settings: Any) -> Iterator[Callable[[str], None]]:
    """An HTTP proxy in front of moto that answers AccessDenied for the named actions.

    Actions are the API operation names (e.g. "CreateTable", "CreateRole"), matched on
    the X-Amz-Target header (JSON APIs) or the Action form field (query APIs).
    """
    denied: set[str] = set()
    upstream = urlsplit(aws)

    class Proxy(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            target = self.headers.get("X-Amz-Target", "")
            if target:
                action = target.rsplit(".", 1)[-1]
            else:
                action = parse_qs(body.decode()).get("Action", [""])[0]
            if action in denied:
                self._deny(action, json_protocol=bool(target))
                return
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=10)
            conn.request("POST", self.path, body, dict(self.headers))
            answer = conn.getresponse()
            payload = answer.read()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            conn.close()

        def _deny(self, action: str, *, json_protocol: bool) -> None:
            message = f"User: arn:aws:iam::123456789012:user/deployer is not authorized ({action})"
            if json_protocol:
                status, kind = 400, "application/x-amz-json-1.0"
                payload = json.dumps(
                    {"__type": "com.amazon.coral.service#AccessDeniedException", "message": message}
                ).encode()
            else:
                status, kind = 403, "text/xml"
                payload = (
                    "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                    f"<Message>{message}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
                ).encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{server.server_address[1]}"
    yield denied.add
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
