"""An HTTP proxy in front of a real server (moto) that can answer with faults.

    with FaultyProxy(moto_url) as proxy:   # point AWS_ENDPOINT_URL at proxy.url
        proxy.fail_next(400, AWS_QUERY_ERROR.format(code="Throttling"), times=2)
        proxy.fail_next(503, "", times=1)
        proxy.drop_next()                  # forward, then hang up without an answer
        proxy.requests                     # (method, path, body) of every request

A fault answers in place of the upstream server: the request never reaches it.
``drop_next`` forwards the request first, so the upstream has acted on it when
the client loses the connection.
"""

import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import requests

__all__ = ["AWS_QUERY_ERROR", "FaultyProxy", "ProxiedRequest"]

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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        proxy = self.server.proxy
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with proxy.lock:
            proxy.log.append(ProxiedRequest(self.command, self.path, body.decode(errors="replace")))
            fault = proxy.faults.popleft() if proxy.faults else None
        if fault and not fault.drop:
            return self._answer(fault.status, {"Content-Type": "text/xml"}, fault.body.encode())
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        upstream = requests.request(
            self.command, proxy.upstream + self.path, data=body, headers=headers, timeout=30
        )
        if fault:
            self.close_connection = True  # hang up without answering
            return
        keep = {"Content-Type": upstream.headers.get("Content-Type", "text/xml")}
        self._answer(upstream.status_code, keep, upstream.content)

    def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: "FaultyProxy"


class FaultyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.lock = threading.Lock()
        self.log: list[ProxiedRequest] = []
        self.faults: deque[_Fault] = deque()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"

    @property
    def requests(self) -> list[ProxiedRequest]:
        with self.lock:
            return list(self.log)

    def fail_next(self, status: int, body: str, *, times: int = 1) -> None:
        with self.lock:
            self.faults.extend([_Fault(status, body)] * times)

    def drop_next(self, *, times: int = 1) -> None:
        with self.lock:
            self.faults.extend([_Fault(drop=True)] * times)

    def __enter__(self) -> "FaultyProxy":
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
