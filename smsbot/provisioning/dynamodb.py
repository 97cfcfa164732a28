"""DynamoDB: the three mirror tables, on demand, encrypted, with point-in-time recovery."""

from __future__ import annotations

from django.conf import settings

from smsbot.aws import resource_name
from smsbot.provisioning.core import (
    Action,
    Check,
    Context,
    Plan,
    ProvisionError,
    Resource,
    client,
    try_get,
)

# Bounded: 2 s between checks, at most 3 minutes per table.
WAIT = {"Delay": 2, "MaxAttempts": 90}


def tags() -> dict[str, str]:
    return {"Project": "SMSBot", "Environment": settings.AWS_ENVIRONMENT}


class Table(Resource):
    kind = "DynamoDB table"

    def __init__(self, setting: str, partition_key: str, sort_key: str | None = None) -> None:
        self.setting = setting
        self.keys = [(partition_key, "HASH")] + ([(sort_key, "RANGE")] if sort_key else [])

    @property
    def name(self) -> str:
        return resource_name(getattr(settings, self.setting))

    def _describe(self) -> dict | None:
        ddb = client("dynamodb")
        found = try_get(
            lambda: ddb.describe_table(TableName=self.name), "ResourceNotFoundException"
        )
        return found and found["Table"]

    def _state(self, table: dict) -> dict[str, object]:
        ddb = client("dynamodb")
        backups = ddb.describe_continuous_backups(TableName=self.name)
        pitr = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
        current_tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
        return {
            "status": table["TableStatus"],
            "billing mode": table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
            "encryption": table.get("SSEDescription", {}).get("Status", "AWS owned key"),
            "point-in-time recovery": pitr.get("PointInTimeRecoveryStatus", "DISABLED"),
            "tags": {t["Key"]: t["Value"] for t in current_tags if t["Key"] in tags()},
        }

    def _check_keys(self, table: dict) -> None:
        found = [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]]
        if found != self.keys:
            # A key schema cannot be changed in place, and replacing the table loses data.
            raise ProvisionError(
                f"{self.label}: exists with key schema {found}, expected {self.keys}; "
                "refusing to replace it — rename or migrate the table by hand"
            )

    def plan(self, ctx: Context) -> Plan:
        table = self._describe()
        if table is None:
            return Plan(Action.CREATE)
        self._check_keys(table)
        desired = {
            "billing mode": "PAY_PER_REQUEST",
            "encryption": "ENABLED",
            "point-in-time recovery": "ENABLED",
            "tags": tags(),
        }
        return Plan.compare(self._state(table), desired)

    def apply(self, ctx: Context, plan: Plan) -> None:
        ddb = client("dynamodb")
        changed = {c.field for c in plan.changes}
        if plan.action is Action.CREATE:
            ddb.create_table(
                TableName=self.name,
                KeySchema=[{"AttributeName": n, "KeyType": t} for n, t in self.keys],
                AttributeDefinitions=[
                    {"AttributeName": n, "AttributeType": "S"} for n, _ in self.keys
                ],
                BillingMode="PAY_PER_REQUEST",
                SSESpecification={"Enabled": True},
                Tags=[{"Key": k, "Value": v} for k, v in tags().items()],
            )
            changed = {"point-in-time recovery"}
        # DynamoDB takes one kind of table update at a time, each after the table is ACTIVE.
        self._wait()
        if "billing mode" in changed:
            ddb.update_table(TableName=self.name, BillingMode="PAY_PER_REQUEST")
            self._wait()
        if "encryption" in changed:
            ddb.update_table(TableName=self.name, SSESpecification={"Enabled": True})
            self._wait()
        if "tags" in changed:
            arn = ctx.arn("dynamodb", f"table/{self.name}")
            ddb.tag_resource(
                ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags().items()]
            )
        if "point-in-time recovery" in changed:
            ddb.update_continuous_backups(
                TableName=self.name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )

    def _wait(self) -> None:
        client("dynamodb").get_waiter("table_exists").wait(TableName=self.name, WaiterConfig=WAIT)

    def verify(self, ctx: Context) -> list[Check]:
        table = self._describe()
        if table is None:
            return [Check(False, f"{self.label}: missing")]
        state = self._state(table)
        ok = (
            state["status"] == "ACTIVE"
            and state["encryption"] == "ENABLED"
            and state["point-in-time recovery"] == "ENABLED"
        )
        return [
            Check(
                ok,
                f"{self.label}: {state['status']}, encryption {state['encryption']}, "
                f"point-in-time recovery {state['point-in-time recovery']}",
            )
        ]

    def teardown(self, ctx: Context, *, delete_data: bool) -> str:
        if self._describe() is None:
            return "absent"
        if not delete_data:
            return "kept with its data (pass --delete-data to delete the table)"
        ddb = client("dynamodb")
        ddb.delete_table(TableName=self.name)
        ddb.get_waiter("table_not_exists").wait(TableName=self.name, WaiterConfig=WAIT)
        return "deleted"


def resources() -> list[Resource]:
    return [
        Table("DYNAMODB_SUBSCRIBERS_TABLE", "phone"),
        Table("DYNAMODB_CONVERSATIONS_TABLE", "phone_number"),
        Table("DYNAMODB_ANALYTICS_TABLE", "date", "metric_type"),
    ]
