"""SNS's SMS sandbox, which moto does not implement, answered in front of moto.

    sandbox = SnsSandbox()                       # a new account: in the sandbox
    with FaultyProxy(moto_url, answers=sandbox) as proxy:   # AWS_ENDPOINT_URL = proxy.url
        sandbox.in_sandbox = False               # moved to production
        sandbox.numbers                          # {E.164: "Pending" | "Verified"}
        sandbox.codes                            # {E.164: the one-time password "texted"}

Documented behaviour modelled (Amazon SNS Developer Guide, "SMS sandbox"): a new
account is in the sandbox; CreateSMSSandboxPhoneNumber adds a destination as
Pending and texts it a one-time password; VerifySMSSandboxPhoneNumber with that
password makes it Verified, a wrong one is VerificationException, an unknown
number ResourceNotFound; at most 10 destination numbers, the eleventh is
UserError; a number that opted out cannot be added (OptedOut). Every other action
goes on to moto.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

__all__ = ["SnsSandbox"]

NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/"
MAX_DESTINATIONS = 10
E164 = re.compile(r"\+[1-9]\d{7,14}")


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


@dataclass
class SnsSandbox:
    in_sandbox: bool = True
    numbers: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    opted_out: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()

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
