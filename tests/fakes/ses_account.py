"""What moto's SES v2 lacks, answered in front of moto (FaultyProxy's ``rest``).

    ses = SesAccount()                             # a new account: in the sandbox
    with FaultyProxy(moto_url, rest=ses) as proxy:  # AWS_ENDPOINT_URL = proxy.url
        ses.identities["example.com"].tokens       # the three Easy DKIM tokens
        ses.dns_published("example.com")          # SES found the CNAME records
        ses.dns_never_published("example.com")     # 72 hours passed without them
        ses.production_access = True               # AWS granted production access
        ses.destinations                           # {configuration set: {name: definition}}

Documented behaviour modelled (SES API v2 reference; SES Developer Guide "Easy DKIM",
"Request production access", "Event publishing"); everything else goes to moto,
which keeps the identities, the configuration sets and the sent mail:

- GetAccount (moto has none): a new account is in the SES sandbox —
  ProductionAccessEnabled false, 200 messages per 24 hours, 1 a second; with
  production access the quota is what AWS granted (50,000 a day at 14 a second is
  modelled here; AWS sets it per use case). SentLast24Hours counts the SendEmail
  calls of the last 24 hours that moto accepted.
- CreateEmailIdentity of a domain (moto gives no DKIM tokens, says NOT_STARTED and
  takes a second create): Easy DKIM answers three tokens, DKIM status PENDING and
  VerifiedForSendingStatus false until SES finds the CNAME records (dns_published:
  SUCCESS and verified) or gives up after 72 hours (dns_never_published: FAILED);
  creating an existing identity is AlreadyExistsException. GetEmailIdentity shows
  the same.
- Configuration set event destinations (moto has none): created, listed, updated
  and deleted on a configuration set moto has (NotFoundException otherwise; a
  second one of a name is AlreadyExistsException); deleting the configuration set
  deletes its event destinations.
"""

from __future__ import annotations

import random
import re
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from tests.fakes.faulty_proxy import RestRequest

__all__ = ["SesAccount"]

DAY = 24 * 3600
SANDBOX_QUOTA = (200.0, 1.0)  # per 24 hours, per second
PRODUCTION_QUOTA = (50000.0, 14.0)

Answer = tuple[int, dict[str, Any]]

IDENTITIES = re.compile(r"/v2/email/identities/?$")
IDENTITY = re.compile(r"/v2/email/identities/(?P<identity>[^/?]+)$")
CONFIG_SET = re.compile(r"/v2/email/configuration-sets/(?P<set>[^/?]+)$")
DESTINATIONS = re.compile(
    r"/v2/email/configuration-sets/(?P<set>[^/?]+)/event-destinations(?:/(?P<name>[^/?]+))?$"
)


def _error(status: int, code: str, message: str) -> Answer:
    return status, {"__type": code, "message": message}


def _token() -> str:
    # Easy DKIM tokens are 32 characters of lower-case letters and digits.
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=32))


@dataclass
class Identity:
    tokens: list[str] = field(default_factory=lambda: [_token() for _ in range(3)])
    dkim_status: str = "PENDING"

    @property
    def verified(self) -> bool:
        return self.dkim_status == "SUCCESS"

    def attributes(self) -> dict[str, Any]:
        return {
            "IdentityType": "DOMAIN",
            "VerifiedForSendingStatus": self.verified,
            "VerificationStatus": self.dkim_status,
            "DkimAttributes": {
                "SigningEnabled": True,
                "Status": self.dkim_status,
                "Tokens": list(self.tokens),
                "SigningAttributesOrigin": "AWS_SES",
                "NextSigningKeyLength": "RSA_2048_BIT",
                "CurrentSigningKeyLength": "RSA_2048_BIT",
            },
        }


@dataclass
class SesAccount:
    production_access: bool = False
    identities: dict[str, Identity] = field(default_factory=dict)
    destinations: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    sent_at: list[float] = field(default_factory=list)
    now: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.lock = threading.Lock()

    def dns_published(self, domain: str) -> None:
        """SES found the three CNAME records: DKIM SUCCESS, the domain verified."""
        self.identities[domain].dkim_status = "SUCCESS"

    def dns_never_published(self, domain: str) -> None:
        """72 hours passed without the records: SES stops looking, DKIM FAILED."""
        self.identities[domain].dkim_status = "FAILED"

    def __call__(self, request: RestRequest) -> Answer | None:
        path = request.path.split("?")[0]
        if not path.startswith("/v2/email/"):
            return None
        with self.lock:
            if path == "/v2/email/account" and request.method == "GET":
                return self._get_account()
            if path == "/v2/email/outbound-emails" and request.method == "POST":
                return self._send_email(request)
            if IDENTITIES.match(path) and request.method == "POST":
                return self._create_identity(request)
            if match := IDENTITY.match(path):
                return self._identity(request, unquote(match["identity"]))
            if match := DESTINATIONS.match(path):
                name = match["name"] and unquote(match["name"])
                return self._destinations(request, unquote(match["set"]), name)
            if (match := CONFIG_SET.match(path)) and request.method == "DELETE":
                status, body = request.upstream()
                if status == 200:
                    self.destinations.pop(unquote(match["set"]), None)
                return status, body
        return None

    def _get_account(self) -> Answer:
        most, rate = PRODUCTION_QUOTA if self.production_access else SANDBOX_QUOTA
        since = self.now() - DAY
        return 200, {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": "HEALTHY",
            "ProductionAccessEnabled": self.production_access,
            "SendingEnabled": True,
            "SendQuota": {
                "Max24HourSend": most,
                "MaxSendRate": rate,
                "SentLast24Hours": float(sum(1 for t in self.sent_at if t > since)),
            },
        }

    def _send_email(self, request: RestRequest) -> Answer:
        status, body = request.upstream()
        if status == 200:
            self.sent_at.append(self.now())
        return status, body

    def _create_identity(self, request: RestRequest) -> Answer | None:
        name = str(request.body.get("EmailIdentity", ""))
        if "@" in name:
            return None  # an address identity: moto's (AWS e-mails it a link)
        if name in self.identities:
            return _error(400, "AlreadyExistsException", f"Email identity {name} already exist.")
        status, body = request.upstream()
        if status != 200:
            return status, body
        identity = self.identities[name] = Identity()
        attributes = identity.attributes()
        del attributes["VerificationStatus"]  # GetEmailIdentity's alone
        return 200, attributes

    def _identity(self, request: RestRequest, name: str) -> Answer | None:
        if name not in self.identities:
            return None
        status, body = request.upstream()
        if status != 200 or request.method == "DELETE":
            self.identities.pop(name)
            return status, body
        return status, {**body, **self.identities[name].attributes()}

    def _destinations(self, request: RestRequest, config_set: str, name: str | None) -> Answer:
        status, _ = request.upstream("GET", f"/v2/email/configuration-sets/{config_set}")
        if status != 200:
            missing = f"Configuration set <{config_set}> does not exist."
            return _error(404, "NotFoundException", missing)
        mine = self.destinations.setdefault(config_set, {})
        if request.method == "GET":
            listed = [{"Name": n, **d} for n, d in sorted(mine.items())]
            return 200, {"EventDestinations": listed}
        if request.method == "POST":
            name = str(request.body.get("EventDestinationName", ""))
            if name in mine:
                return _error(400, "AlreadyExistsException", f"Event destination {name} exists.")
            mine[name] = self._definition(request.body)
            return 200, {}
        if name not in mine:
            return _error(404, "NotFoundException", f"Event destination {name} does not exist.")
        if request.method == "PUT":
            mine[name] = self._definition(request.body)
        else:
            del mine[name]
        return 200, {}

    @staticmethod
    def _definition(body: dict[str, Any]) -> dict[str, Any]:
        wanted = body.get("EventDestination", {})
        # AWS answers Enabled false when the definition leaves it out.
        return {"Enabled": False, **wanted}
