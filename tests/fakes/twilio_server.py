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

Twilio's own opt-out handling on SMS (its documentation: default opt-out keywords on
long codes and toll-free numbers; Advanced Opt-Out on a Messaging Service). The
fake posts no webhooks: ``receive`` plays a phone texting the number and returns the
form Twilio would post to the inbound webhook, for the test to sign and post:

    params = twilio.receive("STOP", sender="+13125550123")   # Twilio answers it itself
    twilio.own_replies        # Twilio's auto-replies: [{"to", "body", "keyword"}]
    twilio.blocked            # numbers that sent STOP: sends to them fail 400, 21610
    twilio.advanced_opt_out = True      # the form then carries OptOutType=STOP/START/HELP
    twilio.custom_keywords["CANCELAR"] = "STOP"   # console-configured (Advanced Opt-Out)

A keyword counts only as the whole body, in any case; WhatsApp has no such handling.

API keys: ``api_key_sid`` ("SK" + 32 hex) and ``api_key_secret`` are accepted as HTTP
Basic credentials besides the auth token (``RecordedRequest.user`` says which user
name a request used); ``api_key_settings()`` gives TWILIO_API_KEY_SID/SECRET.
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

    @property
    def user(self) -> str:
        """The HTTP Basic user name the request authenticated as ("" without one)."""
        return _basic(self.headers.get("Authorization", ""))[0]


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
    # --- Twilio's own opt-out handling and API keys (see the module docstring)
    api_key_sid: str = ""
    api_key_secret: str = ""
    advanced_opt_out: bool = False
    custom_keywords: dict[str, str] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)
    own_replies: list[dict[str, str]] = field(default_factory=list)


def _segments(body: str) -> int:
    # Close enough for a fake: 7-bit text 160/153 a segment, anything else 70/67.
    single, multi = (160, 153) if body.isascii() else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // multi)


def _basic(header: str) -> tuple[str, str]:
    """(user, password) of an HTTP Basic Authorization header; ("", "") otherwise."""
    if not header.startswith("Basic "):
        return "", ""
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return "", ""
    return user, password


# --- Twilio's own opt-out handling -------------------------------------------------
# Its default keywords and replies on SMS (Twilio's Advanced Opt-Out tutorial and its
# support article on opt-out keywords); OptOutType names the kind.
DEFAULT_KEYWORDS = {
    **dict.fromkeys(
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"), "STOP"
    ),
    **dict.fromkeys(("START", "YES", "UNSTOP"), "START"),
    **dict.fromkeys(("HELP", "INFO"), "HELP"),
}
DEFAULT_REPLIES = {
    "STOP": "You have successfully been unsubscribed. You will not receive any more "
    "messages from this number. Reply START to resubscribe.",
    "START": "You have successfully been re-subscribed to messages from this number. "
    "Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
    "HELP": "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
}


def _receive(state: _State, body: str, sender: str, to: str) -> dict[str, str]:
    """Twilio's side of an inbound SMS: its own answer to a keyword, the block a STOP
    sets (and START lifts), and the form it posts to the inbound webhook."""
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "SmsSid": "",
        "AccountSid": state.account_sid,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": str(_segments(body)),
        "ApiVersion": "2010-04-01",
    }
    params["SmsSid"] = params["MessageSid"]
    if sender.startswith("whatsapp:"):
        return params
    word = body.strip().upper()
    with state.lock:
        kind = (state.custom_keywords if state.advanced_opt_out else {}).get(word)
        kind = kind or DEFAULT_KEYWORDS.get(word)
        if kind is None:
            return params
        if kind == "STOP":
            state.blocked.add(sender)
        elif kind == "START":
            state.blocked.discard(sender)
        state.own_replies.append({"to": sender, "body": DEFAULT_REPLIES[kind], "keyword": kind})
        if state.advanced_opt_out:
            params["OptOutType"] = kind
    return params


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
        with state.lock:
            blocked = form["To"] in state.blocked
        if blocked:
            return self._error(400, 21610)
        self._answer(201, self._accept(state, form))

    def _authorized(self, state: _State) -> bool:
        user, password = _basic(self.headers.get("Authorization", ""))
        if state.api_key_sid and (user, password) == (state.api_key_sid, state.api_key_secret):
            return True
        return bool(user) and (user, password) == (state.account_sid, state.auth_token)

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
        self.state.api_key_sid = "SK" + uuid.uuid4().hex
        self.state.api_key_secret = uuid.uuid4().hex
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
            self.state.blocked.clear()
            self.state.own_replies.clear()

    # --- Twilio's own opt-out handling and API keys (see the module docstring) -------

    def receive(self, body: str, sender: str, to: str = "+13125550100") -> dict[str, str]:
        """A phone texts the number: Twilio's own handling, and the inbound webhook form."""
        return _receive(self.state, body, sender, to)

    @property
    def own_replies(self) -> list[dict[str, str]]:
        with self.state.lock:
            return list(self.state.own_replies)

    @property
    def blocked(self) -> set[str]:
        with self.state.lock:
            return set(self.state.blocked)

    def block(self, number: str) -> None:
        """The number opted out at Twilio (a STOP whose webhook the portal never got)."""
        with self.state.lock:
            self.state.blocked.add(number)

    @property
    def advanced_opt_out(self) -> bool:
        return self.state.advanced_opt_out

    @advanced_opt_out.setter
    def advanced_opt_out(self, on: bool) -> None:
        self.state.advanced_opt_out = on

    @property
    def custom_keywords(self) -> dict[str, str]:
        """Advanced Opt-Out's console keywords: WORD -> STOP / START / HELP."""
        return self.state.custom_keywords

    @property
    def api_key_sid(self) -> str:
        return self.state.api_key_sid

    @property
    def api_key_secret(self) -> str:
        return self.state.api_key_secret

    def api_key_settings(self) -> dict[str, str]:
        """The Django settings that make the provider use the API key for REST calls."""
        return {
            "TWILIO_API_KEY_SID": self.api_key_sid,
            "TWILIO_API_KEY_SECRET": self.api_key_secret,
        }
