"""An HTTP proxy in front of a real server (moto) that can answer with faults.

    with FaultyProxy(moto_url) as proxy:   # point AWS_ENDPOINT_URL at proxy.url
        proxy.fail_next(400, AWS_QUERY_ERROR.format(code="Throttling"), times=2)
        proxy.fail_next(503, "", times=1)
        proxy.drop_next()                  # forward, then hang up without an answer
        proxy.requests                     # (method, path, body) of every request

    with FaultyProxy(moto_url, answers=SnsSandbox()) as proxy:
        ...                                # actions moto lacks answered by the model

A fault answers in place of the upstream server: the request never reaches it.
``answers`` (a callable: query-protocol Action and form fields -> (status, XML), or
None to pass the request on) serves actions the upstream does not implement.
``drop_next`` forwards the request first, so the upstream has acted on it when
the client loses the connection.
"""

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

import requests

from tests.fakes.local_server import LocalServer, QuietHandler

__all__ = ["AWS_QUERY_ERROR", "Answers", "FaultyProxy", "ProxiedRequest"]

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


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
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
        upstream = requests.request(
            self.command, proxy.upstream + self.path, data=body, headers=headers, timeout=30
        )
        if fault:
            self.close_connection = True  # hang up without answering
            return
        content_type = upstream.headers.get("Content-Type", "text/xml")
        self.answer(upstream.status_code, content_type, upstream.content)


class FaultyProxy(LocalServer):
    def __init__(self, upstream: str, *, answers: Answers | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.answers = answers
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
