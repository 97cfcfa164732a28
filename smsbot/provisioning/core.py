"""The shapes every provisioned resource shares, the runner, and AWS error translation."""

from __future__ import annotations

import contextlib
import enum
import json
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any, TextIO

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    WaiterError,
)
from django.conf import settings
from django.core.management.base import CommandError

from smsbot import aws
from smsbot.aws_names import SES_CONFIGURATION_SET

ACCESS_DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "UnauthorizedOperation",
}


class ProvisionError(CommandError):
    """A failure that names the resource and the AWS error; the command exits non-zero."""


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SKIP = "skipped"
    DELETE = "delete"


@dataclass(frozen=True)
class Change:
    field: str
    old: object
    new: object

    def __str__(self) -> str:
        old = "(unset)" if self.old in (None, "") else self.old
        return f"{self.field}: {old} → {self.new}"


@dataclass
class Plan:
    action: Action
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # What the plan observed, so apply need not ask AWS again.
    current: Any = None
    # Nothing to say (a retired resource already gone): not printed, not counted.
    quiet: bool = False

    @classmethod
    def compare(cls, current: dict[str, object], desired: dict[str, object], **kw: Any) -> Plan:
        changes = [Change(k, current.get(k), v) for k, v in desired.items() if current.get(k) != v]
        return cls(Action.UPDATE if changes else Action.UNCHANGED, changes, **kw)

    @property
    def pending(self) -> bool:
        return self.action in (Action.CREATE, Action.UPDATE, Action.DELETE)


@dataclass(frozen=True)
class Check:
    ok: bool | None  # None: noted, neither passed nor failed (e.g. a skipped subscription)
    text: str

    def __str__(self) -> str:
        mark = {True: "✓", False: "✗", None: "–"}[self.ok]
        return f"{mark} {self.text}"


@dataclass(frozen=True)
class Context:
    """Who and where we provision: the account, region and partition, read once from STS."""

    account_id: str
    region: str
    partition: str = "aws"

    @classmethod
    def discover(cls) -> Context:
        if not settings.AWS_REGION:
            raise CommandError("AWS_REGION is not set: set it to the region to provision in.")
        with translated("AWS account (sts:GetCallerIdentity)"):
            identity = client("sts").get_caller_identity()
        return cls(identity["Account"], settings.AWS_REGION, identity["Arn"].split(":")[1])

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"


def topic_arn(ctx: Context, base_name: str) -> str:
    """The ARN of one of the portal's SNS topics (IAM grants and SNS both name them)."""
    return ctx.arn("sns", aws.resource_name(base_name))


def email_domain() -> str:
    """The SES sending identity: the domain of EMAIL_FROM's address ("" while e-mail is off)."""
    if not settings.EMAIL_FROM:
        return ""
    address = parseaddr(settings.EMAIL_FROM)[1]
    domain = address.rpartition("@")[2].lower()
    if "@" not in address or "." not in domain:
        raise CommandError(
            f"EMAIL_FROM {settings.EMAIL_FROM!r} has no domain: give an address such as "
            "'Daily Word <daily@example.com>'; its domain becomes the SES identity."
        )
    return domain


def ses_identity_arn(ctx: Context) -> str:
    """The SES identity's ARN (IAM grants and SES both name it)."""
    return ctx.arn("ses", f"identity/{email_domain()}")


def ses_configuration_set_arn(ctx: Context) -> str:
    return ctx.arn("ses", f"configuration-set/{aws.resource_name(SES_CONFIGURATION_SET)}")


class Resource(ABC):
    """One thing in AWS the portal owns: planned, applied, verified and torn down as a unit."""

    kind: str = ""

    @property
    @abstractmethod
    def name(self) -> str: ...

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}".strip()

    @abstractmethod
    def plan(self, ctx: Context) -> Plan: ...

    @abstractmethod
    def apply(self, ctx: Context, plan: Plan) -> None: ...

    @abstractmethod
    def verify(self, ctx: Context) -> list[Check]: ...

    @abstractmethod
    def teardown(self, ctx: Context, *, delete_data: bool) -> str: ...

    def notes(self, ctx: Context) -> list[str]:
        """What the operator must do outside AWS, printed after the plan line (the DNS
        records an SES identity waits for); nothing for most resources."""
        return []


class Group(Resource):
    """Several AWS objects driven by one setting, planned and reported as one resource.

    One setting change is then one update line, which names every object it touches.
    """

    def __init__(self, kind: str, name: str, parts: Sequence[Resource]) -> None:
        self.kind, self._name, self.parts = kind, name, list(parts)

    @property
    def name(self) -> str:
        return self._name

    def plan(self, ctx: Context) -> Plan:
        plans = [part.plan(ctx) for part in self.parts]
        warnings = [w for p in plans for w in p.warnings]
        if all(p.action is Action.CREATE for p in plans):
            return Plan(Action.CREATE, warnings=warnings, current=plans)
        changes: list[Change] = []
        for part, p in zip(self.parts, plans, strict=True):
            if p.action is Action.CREATE:
                changes.append(Change(part.label, "missing", "create"))
            changes.extend(Change(f"{part.label} {c.field}", c.old, c.new) for c in p.changes)
        action = Action.UPDATE if changes else Action.UNCHANGED
        return Plan(action, changes, warnings, current=plans)

    def apply(self, ctx: Context, plan: Plan) -> None:
        for part, part_plan in zip(self.parts, plan.current, strict=True):
            if part_plan.pending:
                part.apply(ctx, part_plan)

    def verify(self, ctx: Context) -> list[Check]:
        return [check for part in self.parts for check in part.verify(ctx)]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        results = [
            f"{part.label}: {part.teardown(ctx, delete_data=delete_data)}"
            for part in reversed(self.parts)
        ]
        return "; ".join(results)


class Retired(Resource):
    """Something older versions created and the portal no longer uses: deleted when found.

    Planned as "delete" while it exists and not mentioned once gone, so a second
    run still changes nothing; verify notes a leftover without failing.
    """

    def __init__(self, resource: Resource, why: str) -> None:
        self.resource, self.why = resource, why
        self.kind = f"retired {resource.kind}"

    @property
    def name(self) -> str:
        return self.resource.name

    def _exists(self, ctx: Context) -> bool:
        return self.resource.plan(ctx).action is not Action.CREATE

    def plan(self, ctx: Context) -> Plan:
        if not self._exists(ctx):
            return Plan(Action.UNCHANGED, quiet=True)
        return Plan(Action.DELETE, [Change("state", "exists", f"deleted ({self.why})")])

    def apply(self, ctx: Context, plan: Plan) -> None:
        self.resource.teardown(ctx, delete_data=False)

    def verify(self, ctx: Context) -> list[Check]:
        if not self._exists(ctx):
            return []
        return [Check(None, f"{self.label}: still exists ({self.why}); provision_aws deletes it")]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        return self.resource.teardown(ctx, delete_data=delete_data)


# --- AWS clients and errors ------------------------------------------------------


# IAM action prefixes that differ from boto3's service name.
IAM_PREFIXES = {"pinpoint-sms-voice-v2": "sms-voice"}


def _remember_action(service: str, parsed: dict[str, Any], model: Any, **_: Any) -> None:
    # A ClientError knows the operation but not the service; the IAM action an
    # AccessDenied refers to needs both.
    error = parsed.get("Error")
    if isinstance(error, dict):
        error["IamAction"] = f"{IAM_PREFIXES.get(service, service)}:{model.name}"


def client(service: str) -> Any:
    c = aws.client(service)
    c.meta.events.register(
        "after-call",
        lambda **kw: _remember_action(service, **kw),
        unique_id=f"smsbot-provisioning-{service}",
    )
    return c


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_missing(error: ClientError, *codes: str) -> bool:
    return error_code(error) in codes


def describe_error(error: BaseException) -> str:
    """One line an operator can act on, for any failure talking to AWS."""
    if isinstance(error, NoCredentialsError):
        return (
            "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
            "AWS_PROFILE, or run where an instance or task role provides them"
        )
    if isinstance(error, NoRegionError):
        return "no AWS region configured: set AWS_REGION"
    if isinstance(error, EndpointConnectionError):
        return f"cannot reach AWS at {error.kwargs.get('endpoint_url')}: check the network"
    if isinstance(error, WaiterError):
        return f"gave up waiting: {error.reason}"
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code, message = error_code(error), info.get("Message", "")
        if code in ACCESS_DENIED_CODES:
            action = info.get("IamAction") or error.operation_name
            return f"{code} — missing permission {action} ({message})"
        return f"{code} in {error.operation_name}: {message}"
    return str(error)


@contextlib.contextmanager
def translated(label: str) -> Iterator[None]:
    """Turn AWS failures into a ProvisionError naming the resource; no traceback."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise ProvisionError(f"{label}: {describe_error(exc)}") from exc


def same_json(a: object, b: object) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def try_get(call: Callable[[], Any], *missing_codes: str) -> Any:
    """The answer of call, or None when AWS says the thing does not exist."""
    try:
        return call()
    except ClientError as exc:
        if is_missing(exc, *missing_codes):
            return None
        raise


# --- The runner ------------------------------------------------------------------


def _plan_line(resource: Resource, plan: Plan, seconds: float) -> str:
    detail = f" ({'; '.join(str(c) for c in plan.changes)})" if plan.changes else ""
    return f"{plan.action.value:<9} {resource.label}{detail}  [{seconds:.2f}s]"


def provision(
    resources: Sequence[Resource], ctx: Context, out: TextIO, *, dry_run: bool
) -> Counter:
    counts: Counter = Counter()
    for resource in resources:
        started = time.monotonic()
        with translated(resource.label):
            plan = resource.plan(ctx)
            if plan.pending and not dry_run:
                resource.apply(ctx, plan)
            notes = resource.notes(ctx)
        if plan.quiet:
            continue
        out.write(_plan_line(resource, plan, time.monotonic() - started) + "\n")
        for warning in plan.warnings:
            out.write(f"          warning: {warning}\n")
        for note in notes:
            out.write(f"          {note}\n")
        counts[plan.action] += 1
    return counts


def verify(resources: Sequence[Resource], ctx: Context, out: TextIO) -> list[Check]:
    checks: list[Check] = []
    for resource in resources:
        try:
            found = resource.verify(ctx)
        except (ClientError, BotoCoreError) as exc:
            found = [Check(False, f"{resource.label}: could not check — {describe_error(exc)}")]
        for check in found:
            out.write(f"{check}\n")
        checks.extend(found)
    return checks


def teardown(
    resources: Sequence[Resource], ctx: Context, out: TextIO, *, delete_data: bool
) -> None:
    for resource in reversed(resources):
        started = time.monotonic()
        with translated(resource.label):
            outcome = resource.teardown(ctx, delete_data=delete_data)
        out.write(f"{resource.label}: {outcome}  [{time.monotonic() - started:.2f}s]\n")
