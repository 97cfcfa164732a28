"""An HTTP proxy in front of a real server (moto) that can answer with faults.

    with FaultyProxy(moto_url) as proxy:   # point AWS_ENDPOINT_URL at proxy.url
        proxy.fail_next(400, AWS_QUERY_ERROR.format(code="Throttling"), times=2)
        proxy.fail_next(503, "", times=1)
        proxy.drop_next()                  # forward, then hang up without an answer
        proxy.requests                     # (method, path, body) of every request

    with FaultyProxy(moto_url, answers=SnsSandbox()) as proxy:
        ...                                # actions moto lacks answered by the model
    with FaultyProxy(moto_url, rest=SesAccount()) as proxy:
        ...                                # the same for a REST-JSON API (SES v2)

A fault answers in place of the upstream server: the request never reaches it.
``answers`` (a callable: query-protocol Action and form fields -> (status, XML), or
None to pass the request on) serves actions the upstream does not implement;
``rest`` does the same for REST-JSON APIs (a RestRequest -> (status, JSON body) or
None), and may ask the upstream itself (RestRequest.upstream) to build on its answer.
``drop_next`` forwards the request first, so the upstream has acted on it when
the client loses the connection.
"""

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import requests

from tests.fakes.local_server import LocalServer, QuietHandler

__all__ = ["AWS_QUERY_ERROR", "Answers", "FaultyProxy", "ProxiedRequest", "RestRequest"]

# A local answer for a query-protocol action: (HTTP status, XML body), or None.
Answers = Callable[[str, dict[str, str]], tuple[int, str] | None]

# The error body of AWS query-protocol services (SNS).
AWS_QUERY_ERROR = (
    '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
    "<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
    "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
)


@dataclass(frozen=True)
class ProxiedRequest:
    method: str
    path: str
    body: str


@dataclass(frozen=True)
class _Fault:
    status: int = 0
    body: str = ""
    drop: bool = False
    # Only a request of this query-protocol Action meets the fault (None: any), so the
    # portal's other calls on the way (an opt-out check, the sandbox status) pass.
    action: str | None = None


@dataclass(frozen=True)
class RestRequest:
    """A REST-JSON request (method, path, parsed JSON body) a model may answer."""

    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    upstream_url: str

    def upstream(
        self, method: str | None = None, path: str | None = None, body: dict | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Ask the upstream server: this request, or another with the same credentials."""
        method = method or self.method
        sent = self.body if body is None else body
        answer = requests.request(
            method,
            self.upstream_url + (path or self.path),
            data=json.dumps(sent) if method in ("POST", "PUT") else None,
            headers=self.headers,
            timeout=30,
        )
        return answer.status_code, (answer.json() if answer.content else {})


# A local answer for a REST-JSON request: (HTTP status, JSON body), or None.
RestAnswers = Callable[[RestRequest], tuple[int, dict[str, Any]] | None]


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        proxy: FaultyProxy = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        form = {k: v[0] for k, v in parse_qs(body.decode(errors="replace")).items()}
        with proxy.lock:
            proxy.log.append(ProxiedRequest(self.command, self.path, body.decode(errors="replace")))
            fault = None
            if proxy.faults and proxy.faults[0].action in (None, form.get("Action")):
                fault = proxy.faults.popleft()
        if fault and not fault.drop:
            return self.answer(fault.status, "text/xml", fault.body.encode())
        if proxy.answers:
            local = proxy.answers(form.get("Action", ""), form)
            if local is not None:
                return self.answer(local[0], "text/xml", local[1].encode())
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        if proxy.rest and "json" in self.headers.get("Content-Type", "json"):
            headers.pop("Content-Length", None)
            request = RestRequest(
                self.command, self.path, json.loads(body or b"{}"), headers, proxy.upstream
            )
            rest = proxy.rest(request)
            if rest is not None:
                payload = json.dumps(rest[1]).encode()
                return self.answer(rest[0], "application/json", payload)
        upstream = requests.request(
            self.command, proxy.upstream + self.path, data=body, headers=headers, timeout=30
        )
        if fault:
            self.close_connection = True  # hang up without answering
            return
        content_type = upstream.headers.get("Content-Type", "text/xml")
        self.answer(upstream.status_code, content_type, upstream.content)


class FaultyProxy(LocalServer):
    def __init__(
        self, upstream: str, *, answers: Answers | None = None, rest: RestAnswers | None = None
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.answers, self.rest = answers, rest
        self.lock = threading.Lock()
        self.log: list[ProxiedRequest] = []
        self.faults: deque[_Fault] = deque()
        super().__init__(_Handler)

    @property
    def requests(self) -> list[ProxiedRequest]:
        with self.lock:
            return list(self.log)

    def fail_next(
        self, status: int, body: str, *, times: int = 1, action: str | None = None
    ) -> None:
        with self.lock:
            self.faults.extend([_Fault(status, body, action=action)] * times)

    def drop_next(self, *, times: int = 1, action: str | None = None) -> None:
        with self.lock:
            self.faults.extend([_Fault(drop=True, action=action)] * times)
