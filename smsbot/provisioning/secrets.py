"""Secrets Manager: the Twilio credentials as one JSON secret. Values are never printed."""

from __future__ import annotations

from smsbot.provisioning.core import (
    Action,
    Change,
    Check,
    Context,
    Plan,
    ProvisionError,
    Resource,
    client,
    try_get,
)
from smsbot.secrets import TwilioCredentials, twilio_from_settings, twilio_secret_name

# Days a deleted secret can still be restored (the shortest AWS allows is 7).
RECOVERY_WINDOW_DAYS = 7


class TwilioSecret(Resource):
    kind = "secret"

    @property
    def name(self) -> str:
        return twilio_secret_name()

    def _describe(self) -> dict | None:
        sm = client("secretsmanager")
        return try_get(lambda: sm.describe_secret(SecretId=self.name), "ResourceNotFoundException")

    def _stored(self) -> TwilioCredentials | None:
        sm = client("secretsmanager")
        value = try_get(
            lambda: sm.get_secret_value(SecretId=self.name), "ResourceNotFoundException"
        )
        return value and TwilioCredentials.from_secret(value["SecretString"])

    def plan(self, ctx: Context) -> Plan:
        if not twilio_from_settings():
            raise ProvisionError(
                f"{self.label}: --with-secrets needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN set"
            )
        described = self._describe()
        if described is None:
            return Plan(Action.CREATE)
        changes = []
        if described.get("DeletedDate"):
            changes.append(Change("state", "scheduled for deletion", "restored"))
        elif self._stored() != twilio_from_settings():
            changes.append(Change("value", "differs from settings", "new version"))
        return Plan(Action.UPDATE if changes else Action.UNCHANGED, changes)

    def apply(self, ctx: Context, plan: Plan) -> None:
        sm = client("secretsmanager")
        value = twilio_from_settings().to_secret()
        if plan.action is Action.CREATE:
            sm.create_secret(
                Name=self.name,
                SecretString=value,
                Description="Twilio credentials for the smsbot portal",
                Tags=[{"Key": "Project", "Value": "SMSBot"}],
            )
            return
        if any(c.field == "state" for c in plan.changes):
            sm.restore_secret(SecretId=self.name)
            if self._stored() == twilio_from_settings():
                return
        sm.put_secret_value(SecretId=self.name, SecretString=value)

    def verify(self, ctx: Context) -> list[Check]:
        described = self._describe()
        if described is None or described.get("DeletedDate"):
            return [Check(False, f"{self.label}: missing or scheduled for deletion")]
        stored = self._stored()
        return [Check(bool(stored), f"{self.label}: exists, holds an account SID and auth token")]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        described = self._describe()
        if described is None or described.get("DeletedDate"):
            return "absent"
        client("secretsmanager").delete_secret(
            SecretId=self.name, RecoveryWindowInDays=RECOVERY_WINDOW_DAYS
        )
        return f"scheduled for deletion in {RECOVERY_WINDOW_DAYS} days (restorable until then)"
