"""A small local server that speaks enough of Twilio's Messages API for tests.

    with FakeTwilio() as twilio:          # listens on 127.0.0.1, a free port
        twilio.url                        # base URL for TWILIO_API_BASE_URL
        twilio.account_sid, twilio.auth_token   # the only credentials it accepts
        ...send through the real twilio client...
        twilio.requests                   # every request: RecordedRequest(method, path,
                                          #   headers, form, authorized)
        twilio.messages                   # the JSON of every message it accepted
        twilio.settings()                 # {TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN,
                                          #  TWILIO_API_BASE_URL} to set in Django settings

Only ``POST /2010-04-01/Accounts/{sid}/Messages.json`` exists. With the right
HTTP Basic credentials it answers 201 with a Twilio-shaped message (``sid``
"SM" + 32 hex, ``status`` "queued", ``num_segments``, ``price`` null...);
wrong credentials get 401 (code 20003); a missing To / From / Body gets 400
with Twilio's code (21604, 21603, 21602).

Faults, for the next requests (each call queues ``times`` of them, in order):

    twilio.fail_next(429)                  # 429, code 20429
    twilio.fail_next(500, code=20500)      # 500, code 20500 (may have been sent)
    twilio.fail_next(503)                  # 503 with no Twilio code
    twilio.fail_next(400, code=21610)      # any refusal: 21211, 21614, 63016...
    twilio.fail_next(400, code=21211, problem=True)  # the same in RFC 9457 form
    twilio.hang_next(2.0)                  # read the request, wait 2 s, then accept it

``latency`` (seconds; a constructor argument and a settable attribute) delays
every answer, for benchmarks. ``price`` (likewise) is the price reported on
accepted messages (Twilio's negative string, e.g. "-0.00790"; default null).
``reset()`` forgets requests, messages and queued faults.
"""

import base64
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.local_server import LocalServer, QuietHandler

__all__ = ["FakeTwilio", "RecordedRequest"]

DEFAULT_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    21211: "The 'To' number is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region",
    21602: "Message body is required.",
    21603: "The 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    63016: "Failed to send freeform message because you are outside the allowed window.",
}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    authorized: bool


@dataclass(frozen=True)
class _Fault:
    status: int = 0
    code: int | None = None
    message: str = ""
    hang: float = 0.0
    problem: bool = False


@dataclass
class _State:
    account_sid: str
    auth_token: str
    latency: float = 0.0
    price: str | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    faults: deque[_Fault] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _segments(body: str) -> int:
    # Close enough for a fake: 7-bit text 160/153 a segment, anything else 70/67.
    single, multi = (160, 153) if body.isascii() else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // multi)


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        state: _State = self.server.owner.state  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        authorized = self._authorized(state)
        with state.lock:
            state.requests.append(
                RecordedRequest("POST", self.path, dict(self.headers), form, authorized)
            )
        if state.latency:
            time.sleep(state.latency)
        expected = f"/2010-04-01/Accounts/{state.account_sid}/Messages.json"
        if self.path != expected:
            return self._error(404, 20404, f"The requested resource {self.path} was not found")
        if not authorized:
            return self._error(401, 20003)
        with state.lock:
            fault = state.faults.popleft() if state.faults else None
        if fault and fault.hang:
            time.sleep(fault.hang)
        elif fault:
            return self._error(fault.status, fault.code, fault.message, problem=fault.problem)
        if "To" not in form:
            return self._error(400, 21604)
        if "From" not in form and "MessagingServiceSid" not in form:
            return self._error(400, 21603)
        if not form.get("Body") and "ContentSid" not in form:
            return self._error(400, 21602)
        self._answer(201, self._accept(state, form))

    def _authorized(self, state: _State) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == state.account_sid and password == state.auth_token

    def _accept(self, state: _State, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + uuid.uuid4().hex
        now = formatdate(usegmt=True)
        body = form.get("Body", "")
        message = {
            "account_sid": state.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": str(_segments(body)),
            "price": state.price,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{state.account_sid}/Messages/{sid}/Media.json"
            },
            "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{state.account_sid}/Messages/{sid}.json",
        }
        with state.lock:
            state.messages.append(message)
        return message

    def _error(
        self, status: int, code: int | None, message: str = "", *, problem: bool = False
    ) -> None:
        text = message or DEFAULT_MESSAGES.get(code or 0, "Error")
        body: dict[str, Any] = {"message": text, "status": status}
        if code is not None:
            body |= {"code": code, "more_info": f"https://www.twilio.com/docs/errors/{code}"}
        if problem:  # RFC 9457, as Twilio's newer APIs answer
            body = {"type": f"https://www.twilio.com/docs/errors/{code}", "title": text,
                    "status": status, "code": code, "detail": text}  # fmt: skip
        self._answer(status, body)

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        self.answer(status, "application/json", json.dumps(body).encode())


class FakeTwilio(LocalServer):
    """A Twilio-compatible Messages API on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        *,
        latency: float = 0.0,
        price: str | None = None,
    ) -> None:
        self.account_sid = account_sid or "AC" + uuid.uuid4().hex
        self.auth_token = auth_token or uuid.uuid4().hex
        self.state = _State(self.account_sid, self.auth_token, latency, price)
        super().__init__(_Handler)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return list(self.state.requests)

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.messages)

    @property
    def price(self) -> str | None:
        return self.state.price

    @price.setter
    def price(self, value: str | None) -> None:
        self.state.price = value

    @property
    def latency(self) -> float:
        return self.state.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.state.latency = seconds

    def fail_next(
        self,
        status: int,
        *,
        code: int | None = None,
        times: int = 1,
        message: str = "",
        problem: bool = False,
    ) -> None:
        """Answer the next `times` requests with this error (429 defaults to code 20429).

        problem=True answers in RFC 9457 form (type, title, status, code, detail).
        """
        if code is None and status == 429:
            code = 20429
        with self.state.lock:
            self.state.faults.extend([_Fault(status, code, message, problem=problem)] * times)

    def hang_next(self, seconds: float, *, times: int = 1) -> None:
        """Read the next requests, wait `seconds`, then accept them (a timeout after sending)."""
        with self.state.lock:
            self.state.faults.extend([_Fault(hang=seconds)] * times)

    def settings(self) -> dict[str, str]:
        """The Django settings that point the Twilio provider here (apply with setattr)."""
        return {
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_API_BASE_URL": self.url,
        }

    def reset(self) -> None:
        with self.state.lock:
            self.state.requests.clear()
            self.state.messages.clear()
            self.state.faults.clear()
