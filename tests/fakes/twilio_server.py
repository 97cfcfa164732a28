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

``POST /2010-04-01/Accounts/{sid}/Messages.json`` sends. With the right
HTTP Basic credentials it answers 201 with a Twilio-shaped message (``sid``
"SM" + 32 hex, ``status`` "queued", ``num_segments``, ``price`` null...);
wrong credentials get 401 (code 20003); a missing To / From / Body gets 400
with Twilio's code (21604, 21603, 21602).

After the send, as Twilio documents: a status callback carries MessageStatus,
ErrorCode and a few properties but never Price; the price appears on the
Message resource some time after the final status.

    twilio.finish(sid, "delivered")        # the final status (and ErrorCode); returns
                                           # the status callback's form, without Price
    twilio.settled_price = "-0.00790"      # the price the resource shows once settled
    twilio.price_delay = 30.0              # seconds after finish() the price stays null

The account resources ``verify_twilio`` reads, each seedable (``twilio.account``):

    GET /2010-04-01/Accounts/{sid}.json                    account: status, type (a
                                                           "Trial" sends only to
                                                           account.verified_numbers: 21608)
    GET /2010-04-01/Accounts/{sid}/Messages/{sid}.json     the message, priced once settled
    GET /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json?PhoneNumber=
                                                           account.numbers {E.164: {sms_url,
                                                           status_callback}}
    GET /v1/Services/{MGsid}                               account.services {sid: {
                                                           inbound_request_url, ...}}
    GET /v1/Services/{MGsid}/Compliance/Usa2p              account.campaigns {sid: status}
    GET /v1/Tollfree/Verifications?TollfreePhoneNumberSid= account.tollfree {PNsid: status}
    GET /v1/Content/{HXsid}/ApprovalRequests               account.templates {sid: (status,
                                                           category)}
    GET /v1/Messaging/Countries/{ISO}                      account.sms_prices {ISO: "0.0083"}

(one server answers for every Twilio domain: the portal points them all at it).

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
    twilio.answer(twiml, to="+13125550123")   # Twilio sends the webhook's TwiML answer:
                                              # [(action URL, its status form)], 21610
                                              # when the number is blocked
    twilio.own_replies        # Twilio's auto-replies: [{"to", "body", "keyword"}]
    twilio.blocked            # numbers that sent STOP: sends to them fail 400, 21610
    twilio.advanced_opt_out = True      # the form then carries OptOutType=STOP/START/HELP
    twilio.default_opt_out = False      # no handling at all (a short code, or disabled)
    twilio.custom_keywords["CANCELAR"] = "STOP"   # console-configured (Advanced Opt-Out)

A keyword counts only as the whole body, in any case; WhatsApp has no such handling.

API keys: ``api_key_sid`` ("SK" + 32 hex) and ``api_key_secret`` are accepted as HTTP
Basic credentials besides the auth token (``RecordedRequest.user`` says which user
name a request used); ``api_key_settings()`` gives TWILIO_API_KEY_SID/SECRET.
"""

import base64
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

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
    21608: "The number is unverified. Trial accounts cannot send messages to unverified "
    "numbers; verify it, or upgrade your account.",
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
    query: dict[str, str] = field(default_factory=dict)

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
class Account:
    """What the account holds, as the resources verify_twilio reads show it (seedable)."""

    status: str = "active"
    type: str = "Full"  # or "Trial"
    # E.164 -> {"sid", "sms_url", "status_callback"} (IncomingPhoneNumbers)
    numbers: dict[str, dict[str, str]] = field(default_factory=dict)
    # MG sid -> {"inbound_request_url", "status_callback", "use_inbound_webhook_on_number"}
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    # MG sid -> A2P 10DLC campaign_status (VERIFIED, PENDING, FAILED, IN_PROGRESS)
    campaigns: dict[str, str] = field(default_factory=dict)
    # PN sid -> toll-free verification status (TWILIO_APPROVED, PENDING_REVIEW, ...)
    tollfree: dict[str, str] = field(default_factory=dict)
    # HX sid -> (WhatsApp approval status, category), e.g. ("approved", "UTILITY")
    templates: dict[str, tuple[str, str]] = field(default_factory=dict)
    # ISO country -> outbound SMS current_price (USD), for the Pricing API
    sms_prices: dict[str, str] = field(default_factory=dict)
    # A trial account sends only to its verified caller IDs: any other To is refused
    # with 400, 21608 (Twilio's "free trial" support article).
    verified_numbers: set[str] = field(default_factory=set)

    def add_number(self, phone: str, *, sms_url: str, status_callback: str = "") -> str:
        sid = "PN" + uuid.uuid4().hex
        self.numbers[phone] = {"sid": sid, "sms_url": sms_url, "status_callback": status_callback}
        return sid


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
    account: Account = field(default_factory=Account)
    settled_price: str | None = "-0.00790"
    price_delay: float = 0.0
    finished_at: dict[str, float] = field(default_factory=dict)  # sid -> monotonic time
    # --- Twilio's own opt-out handling and API keys (see the module docstring)
    api_key_sid: str = ""
    api_key_secret: str = ""
    advanced_opt_out: bool = False
    # Off: a number whose opt-out handling Twilio support disabled, or a short code.
    default_opt_out: bool = True
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
        if not (state.default_opt_out or state.advanced_opt_out):
            return params  # no opt-out handling at Twilio: the portal answers
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


def _accept(state: _State, form: dict[str, str], direction: str = "outbound-api") -> dict[str, Any]:
    """A message Twilio took: queued, priced later (see _message)."""
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
        "direction": direction,
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


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        state: _State = self.server.owner.state  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        authorized = self._authorized(state)
        with state.lock:
            state.requests.append(
                RecordedRequest("GET", parts.path, dict(self.headers), {}, authorized, query)
            )
        if not authorized:
            return self._error(401, 20003)
        with state.lock:
            fault = state.faults.popleft() if state.faults else None
        if fault and not fault.hang:
            return self._error(fault.status, fault.code, fault.message, problem=fault.problem)
        for pattern, resource in _resources(state):
            found = re.fullmatch(pattern, parts.path)
            if found:
                with state.lock:
                    body = resource(*found.groups(), query)
                if body is None:
                    break
                return self._answer(200, body)
        self._error(404, 20404, f"The requested resource {parts.path} was not found")

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
            unverified = state.account.type == "Trial" and (
                form["To"].removeprefix("whatsapp:") not in state.account.verified_numbers
            )
        if blocked:
            return self._error(400, 21610)
        if unverified:
            return self._error(400, 21608)
        self._answer(201, _accept(state, form))

    def _authorized(self, state: _State) -> bool:
        user, password = _basic(self.headers.get("Authorization", ""))
        if state.api_key_sid and (user, password) == (state.api_key_sid, state.api_key_secret):
            return True
        return bool(user) and (user, password) == (state.account_sid, state.auth_token)

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


_SID = r"([A-Za-z0-9]+)"


def _resources(state: _State) -> list[tuple[str, Callable[..., dict[str, Any] | None]]]:
    account = f"/2010-04-01/Accounts/{state.account_sid}"
    return [
        (rf"{account}\.json", lambda q: _account(state)),
        (rf"{account}/Messages/{_SID}\.json", lambda sid, q: _message(state, sid)),
        (rf"{account}/IncomingPhoneNumbers\.json", lambda q: _numbers(state, q)),
        (rf"/v1/Services/{_SID}", lambda sid, q: _service(state, sid)),
        (rf"/v1/Services/{_SID}/Compliance/Usa2p", lambda sid, q: _campaigns(state, sid)),
        (r"/v1/Tollfree/Verifications", lambda q: _tollfree(state, q)),
        (rf"/v1/Content/{_SID}/ApprovalRequests", lambda sid, q: _approval(state, sid)),
        (r"/v1/Messaging/Countries/([A-Z]{2})", lambda iso, q: _country(state, iso)),
    ]


def _meta(key: str, url: str) -> dict[str, Any]:
    return {"page": 0, "page_size": 50, "first_page_url": url, "previous_page_url": None,
            "url": url, "next_page_url": None, "key": key}  # fmt: skip


def _account(state: _State) -> dict[str, Any]:
    return {"sid": state.account_sid, "friendly_name": "smsbot tests", "status":
            state.account.status, "type": state.account.type, "owner_account_sid":
            state.account_sid, "date_created": formatdate(usegmt=True)}  # fmt: skip


def _message(state: _State, sid: str) -> dict[str, Any] | None:
    message = next((m for m in state.messages if m["sid"] == sid), None)
    if message is None:
        return None
    finished = state.finished_at.get(sid)
    settled = finished is not None and time.monotonic() >= finished + state.price_delay
    if settled and message["price"] is None:
        message["price"] = state.settled_price
    return dict(message)


def _numbers(state: _State, query: dict[str, str]) -> dict[str, Any]:
    phone = query.get("PhoneNumber")
    found = [
        {"sid": n["sid"], "account_sid": state.account_sid, "phone_number": number,
         "sms_url": n["sms_url"], "sms_method": "POST", "status_callback": n["status_callback"],
         "capabilities": {"sms": True, "mms": True, "voice": True, "fax": False}}
        for number, n in state.account.numbers.items() if phone in (None, number)
    ]  # fmt: skip
    uri = f"/2010-04-01/Accounts/{state.account_sid}/IncomingPhoneNumbers.json"
    return {"incoming_phone_numbers": found, "page": 0, "page_size": 50, "start": 0,
            "end": max(0, len(found) - 1), "first_page_uri": uri, "next_page_uri": None,
            "previous_page_uri": None, "uri": uri}  # fmt: skip


def _service(state: _State, sid: str) -> dict[str, Any] | None:
    service = state.account.services.get(sid)
    if service is None:
        return None
    return {"sid": sid, "account_sid": state.account_sid, "friendly_name": "smsbot",
            "inbound_request_url": None, "inbound_method": "POST", "status_callback": None,
            "use_inbound_webhook_on_number": False, "us_app_to_person_registered": sid in
            state.account.campaigns, **service}  # fmt: skip


def _campaigns(state: _State, sid: str) -> dict[str, Any]:
    status = state.account.campaigns.get(sid)
    compliance = [] if status is None else [
        {"sid": "QE" + uuid.uuid5(uuid.NAMESPACE_URL, sid).hex, "messaging_service_sid": sid,
         "account_sid": state.account_sid, "campaign_status": status,
         "us_app_to_person_usecase": "MARKETING", "campaign_id": "CXXXXXX",
         "errors": [] if status != "FAILED" else [{"code": 30896, "description": "rejected"}]}
    ]  # fmt: skip
    return {"compliance": compliance, "meta": _meta("compliance", "/v1/Services/x")}


def _tollfree(state: _State, query: dict[str, str]) -> dict[str, Any]:
    pn = query.get("TollfreePhoneNumberSid")
    found = [
        {"sid": "HH" + uuid.uuid5(uuid.NAMESPACE_URL, sid).hex, "account_sid": state.account_sid,
         "tollfree_phone_number_sid": sid, "status": status}
        for sid, status in state.account.tollfree.items() if pn in (None, sid)
    ]  # fmt: skip
    return {"verifications": found, "meta": _meta("verifications", "/v1/Tollfree/Verifications")}


def _approval(state: _State, sid: str) -> dict[str, Any] | None:
    template = state.account.templates.get(sid)
    if template is None:
        return None
    status, category = template
    return {"sid": sid, "account_sid": state.account_sid,
            "whatsapp": {"type": "whatsapp", "name": "daily_message", "category": category,
                         "content_type": "twilio/text", "status": status,
                         "rejection_reason": "", "allow_category_change": True},
            "url": f"/v1/Content/{sid}/ApprovalRequests"}  # fmt: skip


def _country(state: _State, iso: str) -> dict[str, Any] | None:
    price = state.account.sms_prices.get(iso)
    if price is None:
        return None
    prices = [
        {"number_type": kind, "base_price": price, "current_price": price}
        for kind in ("local", "toll free")
    ]
    return {
        "country": iso,
        "iso_country": iso,
        "price_unit": "USD",
        "url": f"/v1/Messaging/Countries/{iso}",
        "inbound_sms_prices": prices,
        "outbound_sms_prices": [
            {"carrier": "Carrier", "mcc": "310", "mnc": "004", "prices": prices}
        ],
    }


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
    def account(self) -> Account:
        return self.state.account

    @property
    def settled_price(self) -> str | None:
        return self.state.settled_price

    @settled_price.setter
    def settled_price(self, value: str | None) -> None:
        self.state.settled_price = value

    @property
    def price_delay(self) -> float:
        return self.state.price_delay

    @price_delay.setter
    def price_delay(self, seconds: float) -> None:
        self.state.price_delay = seconds

    def finish(self, sid: str, status: str = "delivered", error_code: int | None = None) -> dict:
        """Give a message its final status; returns the status callback Twilio would post.

        The callback has no Price: Twilio's status callbacks never carry one. The
        Message resource shows settled_price price_delay seconds after this.
        """
        with self.state.lock:
            message = next(m for m in self.state.messages if m["sid"] == sid)
            message["status"] = status
            message["error_code"] = error_code
            self.state.finished_at[sid] = time.monotonic()
        callback = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status,
                    "SmsStatus": status, "AccountSid": self.account_sid, "To": message["to"],
                    "From": message["from"] or "", "ApiVersion": "2010-04-01"}  # fmt: skip
        if message["messaging_service_sid"]:
            callback["MessagingServiceSid"] = message["messaging_service_sid"]
        if error_code is not None:
            callback["ErrorCode"] = str(error_code)
        return callback

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
            self.state.finished_at.clear()
            self.state.blocked.clear()
            self.state.own_replies.clear()

    # --- Twilio's own opt-out handling and API keys (see the module docstring) -------

    def receive(self, body: str, sender: str, to: str = "+13125550100") -> dict[str, str]:
        """A phone texts the number: Twilio's own handling, and the inbound webhook form."""
        return _receive(self.state, body, sender, to)

    def answer(
        self, twiml: str, to: str, sender: str = "+13125550100"
    ) -> list[tuple[str, dict[str, str]]]:
        """Twilio acting on the TwiML the inbound webhook answered with.

        Each <Message> goes to the phone that texted, as a Message resource of its own:
        refused (failed, 21610) when the number is blocked, else accepted ("sent"; finish()
        settles it later). Returns, for each <Message> with an action URL, that URL and
        the status form Twilio posts to it (MessageStatus, ErrorCode; never Price).
        """
        posted = []
        for element in ElementTree.fromstring(twiml).iter("Message"):
            body = element.text or element.findtext("Body") or ""
            form = {"To": to, "From": sender, "Body": body}
            with self.state.lock:
                blocked = to in self.state.blocked
            if blocked:
                sid, status = "SM" + uuid.uuid4().hex, "failed"
            else:
                sid, status = _accept(self.state, form, "outbound-reply")["sid"], "sent"
            callback = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status,
                        "SmsStatus": status, "AccountSid": self.account_sid, "To": to,
                        "From": sender, "ApiVersion": "2010-04-01"}  # fmt: skip
            if blocked:
                callback["ErrorCode"] = "21610"
            if element.get("action"):
                posted.append((element.get("action", ""), callback))
        return posted

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
    def default_opt_out(self) -> bool:
        return self.state.default_opt_out

    @default_opt_out.setter
    def default_opt_out(self, on: bool) -> None:
        self.state.default_opt_out = on

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
