"""SNS's SMS sandbox and opt-out list, which moto does not model, answered in front of moto.

    sandbox = SnsSandbox()                       # a new account: in the sandbox
    with FaultyProxy(moto_url, answers=sandbox) as proxy:   # AWS_ENDPOINT_URL = proxy.url
        sandbox.in_sandbox = False               # moved to production
        sandbox.numbers                          # {E.164: "Pending" | "Verified"}
        sandbox.codes                            # {E.164: the one-time password "texted"}
        sandbox.opt_out("+13125550123")          # the person texted STOP to the account
        sandbox.opted_out                        # the account's opt-out list
        sandbox.now = lambda: ...                # the model's clock (the 30-day rule)
        sandbox.published                        # SMS publishes moto took, with attributes

Documented behaviour modelled (Amazon SNS Developer Guide, "SMS sandbox"): a new
account is in the sandbox; CreateSMSSandboxPhoneNumber adds a destination as
Pending and texts it a one-time password; VerifySMSSandboxPhoneNumber with that
password makes it Verified, a wrong one is VerificationException, an unknown
number ResourceNotFound; at most 10 destination numbers, the eleventh is
UserError; a number that opted out cannot be added (OptedOut). In the sandbox a
Publish to a number that is not a Verified destination is refused; AWS answers it
with the InvalidParameter text it also gives for a malformed number (modelled so:
the portal must tell the two apart by the account's sandbox status, not the text).

The account's opt-out list (Amazon SNS Developer Guide, "Opting out of receiving
SMS messages"): a STOP texted to the account puts the number on it (opt_out(), as
AWS does on its own); CheckIfPhoneNumberIsOptedOut and ListPhoneNumbersOptedOut
(pages of at most 100, nextToken) read it; OptInPhoneNumber takes a number off it,
"only once every 30 days" per number (SNS API Reference). AWS documents the rule,
not its error: the model answers a second opt-in within 30 days with
InvalidParameter and a message naming the rule (OPT_IN_TOO_SOON). Every other
action goes on to moto.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

__all__ = ["SnsSandbox"]

NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/"
MAX_DESTINATIONS = 10
E164 = re.compile(r"\+[1-9]\d{7,14}")
OPT_IN_EVERY_SECONDS = 30 * 24 * 3600
OPTED_OUT_PAGE = 100
OPT_IN_TOO_SOON = (
    "Invalid parameter: PhoneNumber Reason: a phone number can be opted in only once every 30 days"
)


def _ok(action: str, result: str = "") -> tuple[int, str]:
    return 200, (
        f'<{action}Response xmlns="{NAMESPACE}"><{action}Result>{result}</{action}Result>'
        "<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId>"
        f"</ResponseMetadata></{action}Response>"
    )


def _error(status: int, code: str, message: str) -> tuple[int, str]:
    return status, (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{escape(message)}</Message></Error>"
        "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    )


def _attributes(form: dict[str, str]) -> dict[str, str]:
    """A Publish's MessageAttributes as the query protocol sends them
    (MessageAttributes.entry.N.Name / .Value.StringValue): {name: value}."""
    found = {}
    for key, name in form.items():
        if key.startswith("MessageAttributes.entry.") and key.endswith(".Name"):
            entry = key[: -len(".Name")]
            found[name] = form.get(f"{entry}.Value.StringValue", "")
    return found


@dataclass
class SnsSandbox:
    in_sandbox: bool = True
    numbers: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    opted_out: set[str] = field(default_factory=set)
    opted_in_at: dict[str, float] = field(default_factory=dict)  # last OptInPhoneNumber
    # Publishes to a phone number that went on to moto: number, text, {attribute: value}.
    published: list[dict] = field(default_factory=list)
    now: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.lock = threading.Lock()

    def opt_out(self, number: str) -> None:
        """What AWS does by itself when the person texts STOP to the account."""
        with self.lock:
            self.opted_out.add(number)

    def __call__(self, action: str, form: dict[str, str]) -> tuple[int, str] | None:
        handler = getattr(self, f"_{action}", None)
        if handler is None:
            return None
        with self.lock:
            return handler(form)

    def _GetSMSSandboxAccountStatus(self, form: dict[str, str]) -> tuple[int, str]:
        flag = "true" if self.in_sandbox else "false"
        return _ok("GetSMSSandboxAccountStatus", f"<IsInSandbox>{flag}</IsInSandbox>")

    def _ListSMSSandboxPhoneNumbers(self, form: dict[str, str]) -> tuple[int, str]:
        members = "".join(
            f"<member><PhoneNumber>{n}</PhoneNumber><Status>{s}</Status></member>"
            for n, s in sorted(self.numbers.items())
        )
        return _ok("ListSMSSandboxPhoneNumbers", f"<PhoneNumbers>{members}</PhoneNumbers>")

    def _CreateSMSSandboxPhoneNumber(self, form: dict[str, str]) -> tuple[int, str]:
        number = form.get("PhoneNumber", "")
        if not E164.fullmatch(number):
            return _error(400, "InvalidParameter", "Invalid parameter: PhoneNumber")
        if number in self.opted_out:
            return _error(400, "OptedOut", "Phone number is opted out")
        if number not in self.numbers and len(self.numbers) >= MAX_DESTINATIONS:
            return _error(
                400, "UserError", f"You can add at most {MAX_DESTINATIONS} sandbox numbers"
            )
        self.numbers.setdefault(number, "Pending")
        self.codes[number] = f"{random.randrange(10**6):06d}"
        return _ok("CreateSMSSandboxPhoneNumber")

    def _VerifySMSSandboxPhoneNumber(self, form: dict[str, str]) -> tuple[int, str]:
        number = form.get("PhoneNumber", "")
        if number not in self.numbers:
            return _error(404, "ResourceNotFound", f"{number} is not a sandbox phone number")
        if self.numbers[number] == "Verified":
            return _ok("VerifySMSSandboxPhoneNumber")
        if form.get("OneTimePassword") != self.codes.get(number):
            return _error(400, "VerificationException", "Invalid one-time password")
        self.numbers[number] = "Verified"
        del self.codes[number]
        return _ok("VerifySMSSandboxPhoneNumber")

    def _Publish(self, form: dict[str, str]) -> tuple[int, str] | None:
        number = form.get("PhoneNumber")
        if not number:
            return None  # a topic publish: moto's
        if not self.in_sandbox or self.numbers.get(number) == "Verified":
            # A destination the sandbox allows: moto sends it, but keeps only the number and
            # the text (its data.json "SMS"), so the message attributes are kept here.
            self.published.append(
                {"PhoneNumber": number, "Message": form.get("Message", ""),
                 "MessageAttributes": _attributes(form)}
            )  # fmt: skip
            return None
        return _error(400, "InvalidParameter", "Invalid parameter: PhoneNumber")

    def _CheckIfPhoneNumberIsOptedOut(self, form: dict[str, str]) -> tuple[int, str]:
        number = form.get("phoneNumber", "")
        if not E164.fullmatch(number):
            return _error(400, "InvalidParameter", "Invalid parameter: phoneNumber")
        flag = "true" if number in self.opted_out else "false"
        return _ok("CheckIfPhoneNumberIsOptedOut", f"<isOptedOut>{flag}</isOptedOut>")

    def _ListPhoneNumbersOptedOut(self, form: dict[str, str]) -> tuple[int, str]:
        numbers = sorted(self.opted_out)
        start = int(form.get("nextToken") or 0)
        page = numbers[start : start + OPTED_OUT_PAGE]
        members = "".join(f"<member>{n}</member>" for n in page)
        more = start + OPTED_OUT_PAGE < len(numbers)
        token = f"<nextToken>{start + OPTED_OUT_PAGE}</nextToken>" if more else ""
        return _ok("ListPhoneNumbersOptedOut", f"<phoneNumbers>{members}</phoneNumbers>{token}")

    def _OptInPhoneNumber(self, form: dict[str, str]) -> tuple[int, str]:
        number = form.get("phoneNumber", "")
        if not E164.fullmatch(number):
            return _error(400, "InvalidParameter", "Invalid parameter: phoneNumber")
        last = self.opted_in_at.get(number)
        if last is not None and self.now() - last < OPT_IN_EVERY_SECONDS:
            return _error(400, "InvalidParameter", OPT_IN_TOO_SOON)
        self.opted_out.discard(number)
        self.opted_in_at[number] = self.now()
        return _ok("OptInPhoneNumber")
