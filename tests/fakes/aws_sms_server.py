"""A local server speaking AWS End User Messaging SMS (``pinpoint-sms-voice-v2``) for tests.

moto has no backend for this service, so the real boto3 client talks to this one:

    with FakeSmsVoice() as eum:             # listens on 127.0.0.1, a free port
        eum.url                             # AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2
        number = eum.add_phone_number("+13125550100", "TOLL_FREE")   # seed the account
        eum.add_registration("US_TEN_DLC_CAMPAIGN_REGISTRATION", "COMPLETE")
        eum.tier = "PRODUCTION"             # the account tier (default SANDBOX)
        eum.spend_limit = SpendLimit(enforced=1, maximum=1)
        ...call it through boto3...
        eum.calls                           # every request: Call(operation, body)
        eum.phone_numbers[number]           # the state, as AWS would describe it
        eum.verification_codes[id]          # the code "texted" to a verified destination
        eum.fail_next("DescribePhoneNumbers", AwsError("ThrottlingException", "..."))

The wire protocol is AWS JSON 1.0: ``POST /`` with ``X-Amz-Target:
PinpointSMSVoiceV2.<Operation>`` and a JSON body; the answer is the operation's
output shape of botocore's model (``pinpoint-sms-voice-v2/2022-03-31``), timestamps
as epoch seconds. Errors answer 400 (a throttle 400 too, as AWS JSON services do)
with ``{"__type": code, "message": ...}`` plus the exception's modelled fields
(``Reason``, ``ResourceType``, ``ResourceId``). Signatures are not checked.

Each operation is one function registered in ``OPERATIONS`` with ``@operation``:
more operations (opt-out lists, ...) are added the same way, next to their state on
``FakeSmsVoice``.

Sending (SendTextMessage) is kept in ``eum.sent``; its delivery events are published
when the test asks: ``eum.publish_events(sns, "TEXT_DELIVERED")`` publishes, for every
message not yet reported, the documented event record ("Example SMS event data") to
the SNS topic of its configuration set's event destination, through moto.

Documented behaviour modelled (AWS End User Messaging SMS User Guide):
- New accounts are in the SMS *sandbox* (``ACCOUNT_TIER`` = ``SANDBOX``): they may
  send only to verified destination numbers, at most 10 of them
  (``VERIFIED_DESTINATION_NUMBERS_PER_ACCOUNT``). A destination is verified by a
  code sent to it (SendDestinationNumberVerificationCode) and echoed back
  (VerifyDestinationNumber); a wrong code is ``VERIFICATION_CODE_MISMATCH``.
- The monthly text spend quota of a new account is 1 USD (``MaxLimit``); without an
  override the enforced limit is the quota.
- Throughput is per origination identity, reported in ``MessagingLimits.RateLimits``
  (messages per second): toll-free 3, short code 100, a US long code 1; a 10DLC
  number has its campaign's rate (seeded, ``mps=``).
- Opt-out lists: every account has the list ``Default``; a STOP texted to a number
  puts the sender on the number's list (``opt_out()``, as AWS does by itself);
  PutOptedOutNumber adds one (``EndUserOptedOut`` false), DescribeOptedOutNumbers
  pages them, DeleteOptedOutNumber removes one "only once every 30 days" per number
  (its documentation) — the model answers a second delete within 30 days with
  ``ValidationException`` reason ``PHONE_NUMBER_CANNOT_BE_OPTED_IN``; a number not
  on the list is ``ResourceNotFoundException``.
- Two-way: ``TwoWayEnabled`` needs a channel (``TwoWayChannelArn``), else
  ``TWO_WAY_CHANNEL_NOT_PRESENT``; disabling keeps the channel fields as they were.
- SendTextMessage in the sandbox to a destination that is not VERIFIED:
  ConflictException ``DESTINATION_PHONE_NUMBER_NOT_VERIFIED``. A named origination
  identity or configuration set that does not exist: ResourceNotFoundException.
  ``TimeToLive`` must be 5..259200 seconds. A destination on the opt-out list:
  ConflictException ``DESTINATION_PHONE_NUMBER_OPTED_OUT``.
- Protect configurations: created with every country ALLOWed for SMS; the account
  default (SetAccountDefaultProtectConfiguration) applies to every send, and a
  country whose rule is BLOCK refuses it (ConflictException
  ``DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION``). An account default or
  a configuration set's protect configuration cannot be deleted.
- An event destination's MatchingEventTypes choose which events it publishes.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.local_server import LocalServer, QuietHandler

__all__ = ["OPERATIONS", "AwsError", "Call", "FakeSmsVoice", "SpendLimit", "operation"]

TARGET_PREFIX = "PinpointSMSVoiceV2."
CONTENT_TYPE = "application/x-amz-json-1.0"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"

# Messages per second for SMS by number type (AWS End User Messaging SMS User Guide,
# "Choosing an origination identity"). 10DLC has no fixed rate: the campaign's.
MPS_BY_TYPE = {"TOLL_FREE": 3, "SHORT_CODE": 100, "LONG_CODE": 1, "SIMULATOR": 1}
SANDBOX_VERIFIED_DESTINATIONS = 10
NEW_ACCOUNT_SPEND_QUOTA_USD = 1


class AwsError(Exception):
    """An error in the AWS JSON shape: ``__type``, ``message`` and modelled fields."""

    def __init__(self, code: str, message: str, status: int = 400, **fields: str) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.fields = code, message, status, fields

    def body(self) -> bytes:
        return json.dumps({"__type": self.code, "message": self.message, **self.fields}).encode()


def validation(message: str, reason: str = "FIELD_VALIDATION_FAILED") -> AwsError:
    return AwsError("ValidationException", message, Reason=reason)


def not_found(resource_type: str, resource_id: str) -> AwsError:
    return AwsError(
        "ResourceNotFoundException",
        f"The {resource_type} {resource_id} does not exist.",
        ResourceType=resource_type,
        ResourceId=resource_id,
    )


@dataclass(frozen=True)
class Call:
    operation: str
    body: dict[str, Any]


@dataclass
class SpendLimit:
    """TEXT_MESSAGE_MONTHLY_SPEND_LIMIT: the quota (MaxLimit) and any lower override."""

    enforced: int = NEW_ACCOUNT_SPEND_QUOTA_USD
    maximum: int = NEW_ACCOUNT_SPEND_QUOTA_USD
    overridden: bool = False

    def describe(self) -> dict[str, Any]:
        return {
            "Name": "TEXT_MESSAGE_MONTHLY_SPEND_LIMIT",
            "EnforcedLimit": self.enforced,
            "MaxLimit": self.maximum,
            "Overridden": self.overridden,
        }


@dataclass
class _Fault:
    operation: str
    error: AwsError


@dataclass
class FakeSmsVoice(LocalServer):
    account_id: str = ACCOUNT_ID
    region: str = REGION
    tier: str = "SANDBOX"
    spend_limit: SpendLimit = field(default_factory=SpendLimit)
    phone_numbers: dict[str, dict[str, Any]] = field(default_factory=dict)  # by PhoneNumberId
    pools: dict[str, dict[str, Any]] = field(default_factory=dict)
    registrations: dict[str, dict[str, Any]] = field(default_factory=dict)
    verified_destinations: dict[str, dict[str, Any]] = field(default_factory=dict)
    verification_codes: dict[str, str] = field(default_factory=dict)  # by destination id
    # Opt-out lists by name: {number: OptedOutNumberInformation}.
    opt_out_lists: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {"Default": {}}
    )
    opted_in_at: dict[str, float] = field(default_factory=dict)  # last DeleteOptedOutNumber
    now: Callable[[], float] = time.time
    configuration_sets: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name
    protect_configurations: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id
    protect_rules: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> SMS rules
    default_protect_configuration: str | None = None
    tags: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # by ARN
    sent: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.log: list[Call] = []
        self.faults: deque[_Fault] = deque()
        self._ids = itertools.count(1)
        super().__init__(_Handler)

    # --- seeding and inspection ---------------------------------------------------

    def arn(self, resource: str) -> str:
        return f"arn:aws:sms-voice:{self.region}:{self.account_id}:{resource}"

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):08x}{uuid.uuid4().hex[:24]}"

    def add_phone_number(
        self,
        number: str,
        number_type: str = "TOLL_FREE",
        *,
        status: str = "ACTIVE",
        registration_id: str | None = None,
        mps: int | None = None,
        two_way_channel: str | None = None,
        message_type: str = "TRANSACTIONAL",
    ) -> str:
        """An origination number the account leases; returns its PhoneNumberId."""
        if number_type == "TEN_DLC" and mps is None:
            raise ValueError("a 10DLC number's rate is its campaign's: pass mps=")
        number_id = self.new_id("phone")
        info: dict[str, Any] = {
            "PhoneNumberArn": self.arn(f"phone-number/{number_id}"),
            "PhoneNumberId": number_id,
            "PhoneNumber": number,
            "Status": status,
            "IsoCountryCode": "US",
            "MessageType": message_type,
            "NumberCapabilities": ["SMS"],
            "NumberType": number_type,
            "MonthlyLeasingPrice": "2.00" if number_type == "TOLL_FREE" else "1.00",
            "TwoWayEnabled": two_way_channel is not None,
            "SelfManagedOptOutsEnabled": False,
            "OptOutListName": "Default",
            "InternationalSendingEnabled": False,
            "DeletionProtectionEnabled": False,
            "MessagingLimits": {"RateLimits": {"SMS": mps or MPS_BY_TYPE[number_type]}},
            "CreatedTimestamp": time.time(),
        }
        if two_way_channel:
            info["TwoWayChannelArn"] = two_way_channel
        if registration_id:
            info["RegistrationId"] = registration_id
        with self.lock:
            self.phone_numbers[number_id] = info
        return number_id

    def add_registration(self, registration_type: str, status: str = "COMPLETE") -> str:
        registration_id = self.new_id("registration")
        with self.lock:
            self.registrations[registration_id] = {
                "RegistrationArn": self.arn(f"registration/{registration_id}"),
                "RegistrationId": registration_id,
                "RegistrationType": registration_type,
                "RegistrationStatus": status,
                "CurrentVersionNumber": 1,
                "CreatedTimestamp": time.time(),
            }
            if status == "COMPLETE":
                self.registrations[registration_id]["ApprovedVersionNumber"] = 1
        return registration_id

    def add_pool(self, *number_ids: str, message_type: str = "TRANSACTIONAL") -> str:
        pool_id = self.new_id("pool")
        with self.lock:
            self.pools[pool_id] = {
                "PoolArn": self.arn(f"pool/{pool_id}"),
                "PoolId": pool_id,
                "Status": "ACTIVE",
                "MessageType": message_type,
                "TwoWayEnabled": False,
                "SelfManagedOptOutsEnabled": False,
                "OptOutListName": "Default",
                "SharedRoutesEnabled": False,
                "DeletionProtectionEnabled": False,
                "CreatedTimestamp": time.time(),
            }
            for number_id in number_ids:
                self.phone_numbers[number_id]["PoolId"] = pool_id
        return pool_id

    def number(self, phone: str) -> dict[str, Any]:
        """The state of the origination number phone (E.164)."""
        with self.lock:
            return next(n for n in self.phone_numbers.values() if n["PhoneNumber"] == phone)

    def opt_out(self, number: str, list_name: str = "Default") -> None:
        """What AWS does by itself when the person texts STOP to the account."""
        with self.lock:
            self.opt_out_lists[list_name][number] = _opted_out(number, self.now(), by_user=True)

    @property
    def calls(self) -> list[Call]:
        with self.lock:
            return list(self.log)

    def fail_next(self, operation_name: str, error: AwsError, *, times: int = 1) -> None:
        """The next `times` calls of operation_name answer error instead."""
        with self.lock:
            self.faults.extend([_Fault(operation_name, error)] * times)

    def receive(self, sender: str, number: str, body: str, sns: Any) -> str:
        """A person texts body from sender to the account's number: what AWS does with it.

        Two-way off: the message is dropped. On: the documented two-way payload is
        published to the channel topic through sns (a boto3 SNS client) as
        sms-voice.amazonaws.com, which the topic's access policy must allow for this
        account (aws:SourceAccount) — or a TwoWayChannelRole must be set. Returns
        SNS's MessageId; raises AwsError where AWS would drop the message.
        """
        info = self.number(number)
        if not info["TwoWayEnabled"]:
            raise AwsError("ValidationException", "two-way is off", Reason="TWO_WAY_NOT_ENABLED")
        topic = info["TwoWayChannelArn"]
        if not info.get("TwoWayChannelRole") and not self._may_publish(sns, topic):
            raise AwsError("AccessDeniedException", f"sms-voice may not publish to {topic}")
        payload = {
            "originationNumber": sender,
            "destinationNumber": number,
            "messageKeyword": f"KEYWORD_{self.account_id}",
            "messageBody": body,
            "inboundMessageId": str(uuid.uuid4()),
            "previousPublishedMessageId": str(uuid.uuid4()),
        }
        return str(sns.publish(TopicArn=topic, Message=json.dumps(payload))["MessageId"])

    def _may_publish(self, sns: Any, topic: str) -> bool:
        attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
        policy = json.loads(attributes.get("Policy") or "{}")
        return any(
            s.get("Effect") == "Allow"
            and "sms-voice.amazonaws.com" in _as_list(s.get("Principal", {}).get("Service"))
            and "sns:Publish" in _as_list(s.get("Action"))
            and s.get("Condition", {}).get("StringEquals", {}).get("aws:SourceAccount")
            in (None, self.account_id)
            for s in policy.get("Statement", [])
            if isinstance(s.get("Principal"), dict)
        )

    def verify_destination(self, phone: str) -> None:
        """Seed phone as a VERIFIED sandbox destination."""
        ident = self.new_id("verified-destination-number")
        with self.lock:
            self.verified_destinations[ident] = {
                "VerifiedDestinationNumberArn": self.arn(f"verified-destination-number/{ident}"),
                "VerifiedDestinationNumberId": ident,
                "DestinationPhoneNumber": phone,
                "Status": "VERIFIED",
                "CreatedTimestamp": time.time(),
            }

    def publish_events(self, sns: Any, event_type: str = "TEXT_DELIVERED", **fields: Any) -> int:
        """Publish event_type for every sent message not yet reported, as the configuration
        set's SNS event destination would (the documented record); returns how many."""
        with self.lock:
            pending = [m for m in self.sent if not m["reported"]]
            for m in pending:
                m["reported"] = True
            sets = dict(self.configuration_sets)
        published = 0
        for m in pending:
            config = sets.get(m["ConfigurationSetName"] or "")
            for destination in (config or {}).get("EventDestinations", []):
                wanted = set(destination["MatchingEventTypes"])
                if not destination["Enabled"] or not wanted & {event_type, "ALL", "TEXT_ALL"}:
                    continue
                record = _event_record(m, event_type, **fields)
                topic = destination["SnsDestination"]["TopicArn"]
                sns.publish(TopicArn=topic, Message=json.dumps(record))
                published += 1
        return published

    def settings(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2": self.url}

    # --- dispatch -----------------------------------------------------------------

    def handle(self, operation_name: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.log.append(Call(operation_name, body))
            fault = next((f for f in self.faults if f.operation == operation_name), None)
            if fault:
                self.faults.remove(fault)
        if fault:
            raise fault.error
        handler = OPERATIONS.get(operation_name)
        if handler is None:
            raise AwsError("UnknownOperationException", f"Unknown operation {operation_name}")
        with self.lock:
            return handler(self, body)


Operation = Callable[[FakeSmsVoice, dict[str, Any]], dict[str, Any]]
OPERATIONS: dict[str, Operation] = {}


def operation(name: str) -> Callable[[Operation], Operation]:
    def register(fn: Operation) -> Operation:
        OPERATIONS[name] = fn
        return fn

    return register


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        fake: FakeSmsVoice = self.server.owner  # type: ignore[attr-defined]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        try:
            if not target.startswith(TARGET_PREFIX):
                raise AwsError("UnknownOperationException", f"Unknown target {target!r}")
            try:
                body = json.loads(raw or b"{}")
            except ValueError as exc:
                raise AwsError("SerializationException", "The request body is not JSON") from exc
            answer = fake.handle(target.removeprefix(TARGET_PREFIX), body)
        except AwsError as error:
            return self.answer(error.status, CONTENT_TYPE, error.body())
        self.answer(200, CONTENT_TYPE, json.dumps(answer).encode())


# --- helpers shared by the operations ----------------------------------------------


def _as_list(value: Any) -> list[Any]:
    """An IAM policy element, which may be one value or a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _page(items: list[dict[str, Any]], body: dict[str, Any], key: str) -> dict[str, Any]:
    """NextToken paging: the token is the index of the next item."""
    start = int(body.get("NextToken") or 0)
    size = int(body.get("MaxResults") or 50)
    answer: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        answer["NextToken"] = str(start + size)
    return answer


def _filtered(
    items: list[dict[str, Any]], filters: list[dict[str, Any]], fields: dict[str, str]
) -> list[dict[str, Any]]:
    """Keep items matching every filter; fields maps a filter name to the item's key."""
    for f in filters:
        key = fields.get(f["Name"])
        if key is None:
            raise validation(f"Unsupported filter {f['Name']}", "INVALID_FILTER_VALUES")
        wanted = {str(v).lower() for v in f["Values"]}
        items = [i for i in items if str(i.get(key)).lower() in wanted]
    return items


def _by_id_or_arn(
    store: dict[str, dict[str, Any]], ident: str, arn_key: str, kind: str
) -> dict[str, Any]:
    found = store.get(ident) or next((v for v in store.values() if v[arn_key] == ident), None)
    if found is None:
        raise not_found(kind, ident)
    return found


def _selected(
    store: dict[str, dict[str, Any]], ids: list[str] | None, arn_key: str, kind: str
) -> list[dict[str, Any]]:
    if ids:
        return [_by_id_or_arn(store, i, arn_key, kind) for i in ids]
    return list(store.values())


# --- origination identities ---------------------------------------------------------

PHONE_NUMBER_FILTERS = {
    "status": "Status",
    "iso-country-code": "IsoCountryCode",
    "message-type": "MessageType",
    "number-type": "NumberType",
    "two-way-enabled": "TwoWayEnabled",
    "two-way-channel-arn": "TwoWayChannelArn",
}


@operation("DescribePhoneNumbers")
def describe_phone_numbers(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    numbers = _selected(
        fake.phone_numbers, body.get("PhoneNumberIds"), "PhoneNumberArn", "phone-number"
    )
    numbers = _filtered(numbers, body.get("Filters", []), PHONE_NUMBER_FILTERS)
    return _page(numbers, body, "PhoneNumbers")


@operation("UpdatePhoneNumber")
def update_phone_number(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    number = _by_id_or_arn(
        fake.phone_numbers, body["PhoneNumberId"], "PhoneNumberArn", "phone-number"
    )
    changed = dict(number)
    for key in ("TwoWayChannelArn", "TwoWayChannelRole"):
        if key in body:
            changed[key] = body[key]
    for key in (
        "TwoWayEnabled",
        "SelfManagedOptOutsEnabled",
        "InternationalSendingEnabled",
        "DeletionProtectionEnabled",
    ):
        if key in body:
            changed[key] = bool(body[key])
    if "OptOutListName" in body:
        changed["OptOutListName"] = body["OptOutListName"]
    # Two-way needs somewhere to deliver: an SNS topic or an Amazon Connect channel.
    if changed["TwoWayEnabled"] and not changed.get("TwoWayChannelArn"):
        raise validation(
            "TwoWayChannelArn is required to enable two-way", "TWO_WAY_CHANNEL_NOT_PRESENT"
        )
    channel = changed.get("TwoWayChannelArn", "")
    if channel and not (channel.startswith("arn:") or channel.startswith("connect.")):
        raise validation(f"{channel} is not a valid two-way channel", "INVALID_ARN")
    number.update(changed)
    return {
        k: v for k, v in number.items() if k not in ("PoolId", "MessagingLimits", "PricingTier")
    }


@operation("DescribePools")
def describe_pools(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    pools = _selected(fake.pools, body.get("PoolIds"), "PoolArn", "pool")
    pools = _filtered(
        pools,
        body.get("Filters", []),
        {"status": "Status", "message-type": "MessageType", "two-way-enabled": "TwoWayEnabled"},
    )
    return _page(pools, body, "Pools")


@operation("DescribeRegistrations")
def describe_registrations(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    found = _selected(
        fake.registrations, body.get("RegistrationIds"), "RegistrationArn", "registration"
    )
    found = _filtered(
        found,
        body.get("Filters", []),
        {"registration-type": "RegistrationType", "registration-status": "RegistrationStatus"},
    )
    return _page(found, body, "Registrations")


# --- the account: tier and spend ----------------------------------------------------


@operation("DescribeAccountAttributes")
def describe_account_attributes(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    return {"AccountAttributes": [{"Name": "ACCOUNT_TIER", "Value": fake.tier}]}


@operation("DescribeSpendLimits")
def describe_spend_limits(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    return {"SpendLimits": [fake.spend_limit.describe()]}


# --- verified destination numbers (the sandbox) -------------------------------------


@operation("DescribeVerifiedDestinationNumbers")
def describe_verified_destination_numbers(
    fake: FakeSmsVoice, body: dict[str, Any]
) -> dict[str, Any]:
    found = _selected(
        fake.verified_destinations,
        body.get("VerifiedDestinationNumberIds"),
        "VerifiedDestinationNumberArn",
        "verified-destination-number",
    )
    if body.get("DestinationPhoneNumbers"):
        wanted = set(body["DestinationPhoneNumbers"])
        found = [d for d in found if d["DestinationPhoneNumber"] in wanted]
    found = _filtered(found, body.get("Filters", []), {"status": "Status"})
    return _page(found, body, "VerifiedDestinationNumbers")


@operation("CreateVerifiedDestinationNumber")
def create_verified_destination_number(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    number = str(body.get("DestinationPhoneNumber", ""))
    if not (number.startswith("+") and number[1:].isdigit() and 8 <= len(number) <= 16):
        raise validation(f"{number!r} is not an E.164 phone number", "INVALID_PARAMETER")
    if any(d["DestinationPhoneNumber"] == number for d in fake.verified_destinations.values()):
        raise AwsError(
            "ConflictException",
            f"{number} is already a verified destination number",
            Reason="RESOURCE_ALREADY_EXISTS",
            ResourceType="verified-destination-number",
        )
    if len(fake.verified_destinations) >= SANDBOX_VERIFIED_DESTINATIONS:
        raise AwsError(
            "ServiceQuotaExceededException",
            f"At most {SANDBOX_VERIFIED_DESTINATIONS} verified destination numbers",
            Reason="VERIFIED_DESTINATION_NUMBERS_PER_ACCOUNT",
        )
    ident = fake.new_id("verified-destination-number")
    fake.verified_destinations[ident] = {
        "VerifiedDestinationNumberArn": fake.arn(f"verified-destination-number/{ident}"),
        "VerifiedDestinationNumberId": ident,
        "DestinationPhoneNumber": number,
        "Status": "PENDING",
        "CreatedTimestamp": time.time(),
    }
    return dict(fake.verified_destinations[ident])


@operation("SendDestinationNumberVerificationCode")
def send_destination_number_verification_code(
    fake: FakeSmsVoice, body: dict[str, Any]
) -> dict[str, Any]:
    destination = _by_id_or_arn(
        fake.verified_destinations,
        body["VerifiedDestinationNumberId"],
        "VerifiedDestinationNumberArn",
        "verified-destination-number",
    )
    if body.get("VerificationChannel") not in ("TEXT", "VOICE"):
        raise validation("VerificationChannel must be TEXT or VOICE", "INVALID_PARAMETER")
    if destination["Status"] == "VERIFIED":
        raise AwsError(
            "ConflictException",
            "The destination number is already verified",
            Reason="VERIFICATION_ALREADY_COMPLETE",
        )
    fake.verification_codes[destination["VerifiedDestinationNumberId"]] = (
        f"{random.randrange(10**6):06d}"
    )
    return {"MessageId": str(uuid.uuid4())}


@operation("VerifyDestinationNumber")
def verify_destination_number(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    destination = _by_id_or_arn(
        fake.verified_destinations,
        body["VerifiedDestinationNumberId"],
        "VerifiedDestinationNumberArn",
        "verified-destination-number",
    )
    sent = fake.verification_codes.get(destination["VerifiedDestinationNumberId"])
    if sent is None or body.get("VerificationCode") != sent:
        raise validation("The verification code does not match", "VERIFICATION_CODE_MISMATCH")
    destination["Status"] = "VERIFIED"
    del fake.verification_codes[destination["VerifiedDestinationNumberId"]]
    return dict(destination)


# --- opt-out lists --------------------------------------------------------------------

OPT_IN_EVERY_SECONDS = 30 * 24 * 3600


def _opted_out(number: str, at: float, *, by_user: bool) -> dict[str, Any]:
    return {"OptedOutNumber": number, "OptedOutTimestamp": at, "EndUserOptedOut": by_user}


def _opt_out_list(fake: FakeSmsVoice, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = str(body.get("OptOutListName", ""))
    if name not in fake.opt_out_lists:
        raise not_found("opt-out-list", name)
    return name, fake.opt_out_lists[name]


def _list_answer(fake: FakeSmsVoice, name: str, info: dict[str, Any]) -> dict[str, Any]:
    return {"OptOutListArn": fake.arn(f"opt-out-list/{name}"), "OptOutListName": name, **info}


@operation("PutOptedOutNumber")
def put_opted_out_number(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    name, numbers = _opt_out_list(fake, body)
    number = str(body.get("OptedOutNumber", ""))
    if not (number.startswith("+") and number[1:].isdigit()):
        raise validation(f"{number!r} is not an E.164 phone number", "INVALID_PARAMETER")
    info = numbers.setdefault(number, _opted_out(number, fake.now(), by_user=False))
    return _list_answer(fake, name, info)


@operation("DeleteOptedOutNumber")
def delete_opted_out_number(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    name, numbers = _opt_out_list(fake, body)
    number = str(body.get("OptedOutNumber", ""))
    if number not in numbers:
        raise not_found("opted-out-number", number)
    last = fake.opted_in_at.get(number)
    if last is not None and fake.now() - last < OPT_IN_EVERY_SECONDS:
        raise validation(
            "Each destination phone number can only be deleted once every 30 days",
            "PHONE_NUMBER_CANNOT_BE_OPTED_IN",
        )
    fake.opted_in_at[number] = fake.now()
    return _list_answer(fake, name, numbers.pop(number))


@operation("DescribeOptedOutNumbers")
def describe_opted_out_numbers(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    name, numbers = _opt_out_list(fake, body)
    found = sorted(numbers.values(), key=lambda n: n["OptedOutNumber"])
    if body.get("OptedOutNumbers"):
        wanted = set(body["OptedOutNumbers"])
        found = [n for n in found if n["OptedOutNumber"] in wanted]
    answer = _page(found, body, "OptedOutNumbers")
    return {"OptOutListArn": fake.arn(f"opt-out-list/{name}"), "OptOutListName": name, **answer}


# --- sending -------------------------------------------------------------------------

# Prices per SMS part in USD by destination country (examples in the shape of AWS's
# price list; the fake needs a number, not AWS's current one).
PRICE_PER_PART = {"US": "0.00581", "CA": "0.00581", "AU": "0.04030"}
GSM_PART = 160


def _country(phone: str) -> str:
    import phonenumbers

    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone)) or ""
    except phonenumbers.NumberParseException:
        return ""


def _event_record(sent: dict[str, Any], event_type: str, **fields: Any) -> dict[str, Any]:
    parts = max(1, -(-len(sent["MessageBody"]) // GSM_PART))
    price = float(PRICE_PER_PART.get(sent["IsoCountryCode"], "0.05")) * parts
    status = event_type.removeprefix("TEXT_")
    return {
        "eventType": event_type,
        "eventVersion": "1.0",
        "eventTimestamp": int(time.time() * 1000),
        "isFinal": event_type not in ("TEXT_PENDING", "TEXT_QUEUED", "TEXT_SUCCESSFUL"),
        "originationPhoneNumber": sent["OriginationPhoneNumber"],
        "destinationPhoneNumber": sent["DestinationPhoneNumber"],
        "isInternationalSend": False,
        "isoCountryCode": sent["IsoCountryCode"],
        "messageId": sent["MessageId"],
        "messageRequestTimestamp": sent["RequestTimestamp"],
        "messageEncoding": "GSM",
        "messageType": sent["MessageType"],
        "messageStatus": status,
        "messageStatusDescription": f"Message status {status.lower()}",
        "context": sent.get("Context") or {},
        "totalMessageParts": parts,
        "totalMessagePrice": round(price, 5),
        "totalCarrierFee": 0.0,
        **fields,
    }


def _origination(fake: FakeSmsVoice, identity: str) -> dict[str, Any]:
    """The phone number that sends for identity (a number, its id or ARN, or a pool)."""
    for number in fake.phone_numbers.values():
        if identity in (number["PhoneNumber"], number["PhoneNumberId"], number["PhoneNumberArn"]):
            return number
    pool = next((p for p in fake.pools.values() if identity in (p["PoolId"], p["PoolArn"])), None)
    if pool is not None:
        members = [n for n in fake.phone_numbers.values() if n.get("PoolId") == pool["PoolId"]]
        if members:
            return members[0]
    raise not_found("phone-number", identity)


@operation("SendTextMessage")
def send_text_message(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    destination = str(body.get("DestinationPhoneNumber", ""))
    if not (destination.startswith("+") and destination[1:].isdigit()):
        raise AwsError(
            "ValidationException",
            "DestinationPhoneNumber is not E.164",
            Reason="INVALID_PARAMETER",
            Fields=[{"Name": "DestinationPhoneNumber", "Message": "not E.164"}],  # type: ignore[arg-type]
        )
    ttl = body.get("TimeToLive")
    if ttl is not None and not 5 <= int(ttl) <= 259200:
        raise validation("TimeToLive must be 5..259200 seconds")
    config_name = body.get("ConfigurationSetName")
    config = None
    if config_name:
        config = fake.configuration_sets.get(config_name)
        if config is None:
            raise not_found("configuration-set", config_name)
    origin = (
        _origination(fake, body["OriginationIdentity"]) if body.get("OriginationIdentity") else None
    )
    if fake.tier == "SANDBOX" and not any(
        d["DestinationPhoneNumber"] == destination and d["Status"] == "VERIFIED"
        for d in fake.verified_destinations.values()
    ):
        raise AwsError(
            "ConflictException",
            f"{destination} is not a verified destination number (the account is in the sandbox)",
            Reason="DESTINATION_PHONE_NUMBER_NOT_VERIFIED",
            ResourceType="verified-destination-number",
            ResourceId=destination,
        )
    if destination in fake.opt_out_lists["Default"]:
        raise AwsError(
            "ConflictException",
            f"{destination} is on the opt-out list",
            Reason="DESTINATION_PHONE_NUMBER_OPTED_OUT",
            ResourceType="opt-out-list",
            ResourceId="Default",
        )
    country = _country(destination)
    protect = body.get("ProtectConfigurationId") or (config or {}).get("ProtectConfigurationId")
    protect = protect or fake.default_protect_configuration
    if protect and fake.protect_rules.get(protect, {}).get(country) == "BLOCK":
        raise AwsError(
            "ConflictException",
            f"The protect configuration blocks sending to {country}",
            Reason="DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION",
            ResourceType="protect-configuration",
            ResourceId=protect,
        )
    message_id = str(uuid.uuid4())
    fake.sent.append(
        {
            "MessageId": message_id,
            "DestinationPhoneNumber": destination,
            "OriginationPhoneNumber": origin["PhoneNumber"] if origin else "+13125550199",
            "MessageBody": str(body.get("MessageBody", "")),
            "MessageType": body.get("MessageType", "TRANSACTIONAL"),
            "ConfigurationSetName": config_name,
            "TimeToLive": ttl,
            "Context": body.get("Context"),
            "IsoCountryCode": country,
            "RequestTimestamp": int(time.time() * 1000),
            "reported": False,
        }
    )
    return {"MessageId": message_id}


@operation("ListPoolOriginationIdentities")
def list_pool_origination_identities(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    pool = _by_id_or_arn(fake.pools, body["PoolId"], "PoolArn", "pool")
    members = [
        {
            "OriginationIdentityArn": n["PhoneNumberArn"],
            "OriginationIdentity": n["PhoneNumberId"],
            "IsoCountryCode": n["IsoCountryCode"],
            "NumberCapabilities": n["NumberCapabilities"],
            "PhoneNumber": n["PhoneNumber"],
        }
        for n in fake.phone_numbers.values()
        if n.get("PoolId") == pool["PoolId"]
    ]
    answer = _page(members, body, "OriginationIdentities")
    return {"PoolArn": pool["PoolArn"], "PoolId": pool["PoolId"], **answer}


# --- configuration sets and event destinations ---------------------------------------


def _config_set(fake: FakeSmsVoice, name: str) -> dict[str, Any]:
    found = fake.configuration_sets.get(name) or next(
        (c for c in fake.configuration_sets.values() if c["ConfigurationSetArn"] == name), None
    )
    if found is None:
        raise not_found("configuration-set", name)
    return found


@operation("CreateConfigurationSet")
def create_configuration_set(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    name = body["ConfigurationSetName"]
    if name in fake.configuration_sets:
        raise AwsError(
            "ConflictException", f"{name} exists", Reason="RESOURCE_ALREADY_EXISTS",
            ResourceType="configuration-set", ResourceId=name,
        )  # fmt: skip
    arn = fake.arn(f"configuration-set/{name}")
    fake.configuration_sets[name] = {
        "ConfigurationSetArn": arn,
        "ConfigurationSetName": name,
        "EventDestinations": [],
        "CreatedTimestamp": time.time(),
    }
    fake.tags[arn] = list(body.get("Tags") or [])
    return {
        "ConfigurationSetArn": arn,
        "ConfigurationSetName": name,
        "Tags": fake.tags[arn],
        "CreatedTimestamp": time.time(),
    }


@operation("DescribeConfigurationSets")
def describe_configuration_sets(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    names = body.get("ConfigurationSetNames")
    found = (
        [_config_set(fake, n) for n in names] if names else list(fake.configuration_sets.values())
    )
    return _page([json.loads(json.dumps(c)) for c in found], body, "ConfigurationSets")


@operation("DeleteConfigurationSet")
def delete_configuration_set(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    config = _config_set(fake, body["ConfigurationSetName"])
    del fake.configuration_sets[config["ConfigurationSetName"]]
    fake.tags.pop(config["ConfigurationSetArn"], None)
    return {k: v for k, v in config.items() if k != "ProtectConfigurationId"}


def _check_destination(fake: FakeSmsVoice, body: dict[str, Any]) -> None:
    types = body.get("MatchingEventTypes")
    if types is not None and not types:
        raise validation("MatchingEventTypes may not be empty", "MISSING_PARAMETER")
    topic = (body.get("SnsDestination") or {}).get("TopicArn", "")
    if "SnsDestination" in body and not topic.startswith("arn:"):
        raise validation(f"{topic!r} is not a topic ARN", "INVALID_ARN")


@operation("CreateEventDestination")
def create_event_destination(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    config = _config_set(fake, body["ConfigurationSetName"])
    _check_destination(fake, body)
    name = body["EventDestinationName"]
    if any(d["EventDestinationName"] == name for d in config["EventDestinations"]):
        raise AwsError("ConflictException", f"{name} exists", Reason="RESOURCE_ALREADY_EXISTS")
    destination = {
        "EventDestinationName": name,
        "Enabled": True,
        "MatchingEventTypes": list(body["MatchingEventTypes"]),
    }
    for kind in ("SnsDestination", "CloudWatchLogsDestination", "KinesisFirehoseDestination"):
        if kind in body:
            destination[kind] = body[kind]
    config["EventDestinations"].append(destination)
    return {
        "ConfigurationSetArn": config["ConfigurationSetArn"],
        "ConfigurationSetName": config["ConfigurationSetName"],
        "EventDestination": destination,
    }


@operation("UpdateEventDestination")
def update_event_destination(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    config = _config_set(fake, body["ConfigurationSetName"])
    _check_destination(fake, body)
    destination = next(
        (d for d in config["EventDestinations"]
         if d["EventDestinationName"] == body["EventDestinationName"]),
        None,
    )  # fmt: skip
    if destination is None:
        raise not_found("event-destination", body["EventDestinationName"])
    for key in ("Enabled", "MatchingEventTypes", "SnsDestination"):
        if key in body:
            destination[key] = body[key]
    return {
        "ConfigurationSetArn": config["ConfigurationSetArn"],
        "ConfigurationSetName": config["ConfigurationSetName"],
        "EventDestination": destination,
    }


# --- protect configurations ---------------------------------------------------------

# The countries a new protect configuration lists (all ALLOW); AWS lists every country.
PROTECT_COUNTRIES = ("US", "CA", "AU", "GB", "DE", "FR", "MX", "IN", "NG", "PK", "ID", "BR")


def _protect(fake: FakeSmsVoice, ident: str) -> dict[str, Any]:
    return _by_id_or_arn(
        fake.protect_configurations, ident, "ProtectConfigurationArn", "protect-configuration"
    )


def _protect_info(fake: FakeSmsVoice, config: dict[str, Any]) -> dict[str, Any]:
    return {
        **config,
        "AccountDefault": config["ProtectConfigurationId"] == fake.default_protect_configuration,
    }


@operation("CreateProtectConfiguration")
def create_protect_configuration(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    ident = fake.new_id("protect")
    arn = fake.arn(f"protect-configuration/{ident}")
    fake.protect_configurations[ident] = {
        "ProtectConfigurationArn": arn,
        "ProtectConfigurationId": ident,
        "CreatedTimestamp": time.time(),
        "DeletionProtectionEnabled": bool(body.get("DeletionProtectionEnabled")),
    }
    fake.protect_rules[ident] = dict.fromkeys(PROTECT_COUNTRIES, "ALLOW")
    fake.tags[arn] = list(body.get("Tags") or [])
    return {**_protect_info(fake, fake.protect_configurations[ident]), "Tags": fake.tags[arn]}


@operation("DescribeProtectConfigurations")
def describe_protect_configurations(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    found = _selected(
        fake.protect_configurations,
        body.get("ProtectConfigurationIds"),
        "ProtectConfigurationArn",
        "protect-configuration",
    )
    infos = [_protect_info(fake, c) for c in found]
    infos = _filtered(
        infos,
        body.get("Filters", []),
        {
            "account-default": "AccountDefault",
            "deletion-protection-enabled": "DeletionProtectionEnabled",
        },
    )
    return _page(infos, body, "ProtectConfigurations")


def _rule_set_answer(fake: FakeSmsVoice, ident: str) -> dict[str, Any]:
    config = fake.protect_configurations[ident]
    return {
        "ProtectConfigurationArn": config["ProtectConfigurationArn"],
        "ProtectConfigurationId": ident,
        "NumberCapability": "SMS",
        "CountryRuleSet": {
            c: {"ProtectStatus": s} for c, s in sorted(fake.protect_rules[ident].items())
        },
    }


@operation("GetProtectConfigurationCountryRuleSet")
def get_protect_configuration_country_rule_set(
    fake: FakeSmsVoice, body: dict[str, Any]
) -> dict[str, Any]:
    config = _protect(fake, body["ProtectConfigurationId"])
    if body.get("NumberCapability") != "SMS":
        raise validation("only SMS rule sets are modelled", "INVALID_PARAMETER")
    return _rule_set_answer(fake, config["ProtectConfigurationId"])


@operation("UpdateProtectConfigurationCountryRuleSet")
def update_protect_configuration_country_rule_set(
    fake: FakeSmsVoice, body: dict[str, Any]
) -> dict[str, Any]:
    config = _protect(fake, body["ProtectConfigurationId"])
    if body.get("NumberCapability") != "SMS":
        raise validation("only SMS rule sets are modelled", "INVALID_PARAMETER")
    rules = fake.protect_rules[config["ProtectConfigurationId"]]
    for country, rule in body["CountryRuleSetUpdates"].items():
        if country not in rules:
            raise validation(f"{country} is not a country code", "INVALID_PARAMETER")
        if rule["ProtectStatus"] not in ("ALLOW", "BLOCK", "MONITOR", "FILTER"):
            raise validation(f"{rule['ProtectStatus']} is not a protect status")
        rules[country] = rule["ProtectStatus"]
    return _rule_set_answer(fake, config["ProtectConfigurationId"])


@operation("SetAccountDefaultProtectConfiguration")
def set_account_default_protect_configuration(
    fake: FakeSmsVoice, body: dict[str, Any]
) -> dict[str, Any]:
    config = _protect(fake, body["ProtectConfigurationId"])
    fake.default_protect_configuration = config["ProtectConfigurationId"]
    return {
        "DefaultProtectConfigurationArn": config["ProtectConfigurationArn"],
        "DefaultProtectConfigurationId": config["ProtectConfigurationId"],
    }


@operation("DeleteAccountDefaultProtectConfiguration")
def delete_account_default_protect_configuration(
    fake: FakeSmsVoice, body: dict[str, Any]
) -> dict[str, Any]:
    if fake.default_protect_configuration is None:
        raise not_found("account-default-protect-configuration", "default")
    config = fake.protect_configurations[fake.default_protect_configuration]
    fake.default_protect_configuration = None
    return {
        "DefaultProtectConfigurationArn": config["ProtectConfigurationArn"],
        "DefaultProtectConfigurationId": config["ProtectConfigurationId"],
    }


@operation("DeleteProtectConfiguration")
def delete_protect_configuration(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    config = _protect(fake, body["ProtectConfigurationId"])
    ident = config["ProtectConfigurationId"]
    if ident == fake.default_protect_configuration:
        raise AwsError(
            "ConflictException",
            "The protect configuration is the account default",
            Reason="PROTECT_CONFIGURATION_IS_ACCOUNT_DEFAULT",
        )
    info = _protect_info(fake, config)
    del fake.protect_configurations[ident]
    del fake.protect_rules[ident]
    fake.tags.pop(config["ProtectConfigurationArn"], None)
    return info


@operation("ListTagsForResource")
def list_tags_for_resource(fake: FakeSmsVoice, body: dict[str, Any]) -> dict[str, Any]:
    arn = body["ResourceArn"]
    if arn not in fake.tags:
        raise not_found("resource", arn)
    return {"ResourceArn": arn, "Tags": fake.tags[arn]}
