"""Messages, consent events and users for the operations-view tests (shared with tests/browser)."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from messaging.broadcasts import daily
from messaging.models import Broadcast, DeliveryEvent, Message, ProviderCall
from subscribers import consent

OPS_PASSWORD = "ops-password-for-tests-0123"
OPS_GROUP = "Operations Manager"
# Read-only access to everything the operations views show.
VIEW_PERMISSIONS = [
    "messaging.view_message",
    "messaging.view_deliveryevent",
    "messaging.view_providercall",
    "messaging.view_broadcast",
    "messaging.view_dailycontent",
    "subscribers.view_subscriber",
    "subscribers.view_consentevent",
    "subscribers.view_subscriberevent",
]
# What the Operations Manager group is given (messaging 0004), besides viewing.
OPERATOR_PERMISSIONS = (
    "messaging.add_broadcast",
    "messaging.change_broadcast",
    "messaging.view_dailyscheduletask",
)


def ops_manager(username: str = "ops", extra_permissions: tuple[str, ...] = ()) -> Any:
    """A staff user in the Operations Manager group: view permissions, plus extra ones.

    Tests on a transactional database (live_server) lose rows made by data
    migrations, so the group is made here with what the test needs; pass e.g.
    ("subscribers.change_subscriber",) for the consent actions.
    """
    from django.contrib.auth import get_user_model

    group, _ = Group.objects.get_or_create(name=OPS_GROUP)
    for name in (*VIEW_PERMISSIONS, *extra_permissions):
        app_label, codename = name.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    user = get_user_model().objects.create_user(
        username, email=f"{username}@example.test", password=OPS_PASSWORD, is_staff=True
    )
    user.groups.add(group)
    return user


def at(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def message(created: datetime | None = None, **fields: Any) -> Message:
    """An outbound Twilio SMS (overridable), created at `created`."""
    values: dict[str, Any] = {
        "direction": "outbound",
        "kind": "reply",
        "channel": "sms",
        "provider": "twilio",
        "phone": "+13125550123",
        "status": "delivered",
        "segments": 1,
        "price_estimated": Decimal("0.0083"),
        "body": "Hello",
    }
    values.update(fields)
    msg = Message.objects.create(**values)
    if created is not None:
        # created_at is auto_now_add: set the time after the insert.
        Message.objects.filter(pk=msg.pk).update(created_at=created)
        msg.created_at = created
    return msg


def provider_call(msg: Message, **fields: Any) -> ProviderCall:
    values: dict[str, Any] = {
        "provider": msg.provider,
        "operation": "messages.create",
        "request": {"To": msg.phone, "Body": msg.body},
        "response": {"sid": "SM123", "status": "queued"},
        "http_status": 201,
        "outcome": "ok",
        "duration_ms": 42,
    }
    values.update(fields)
    return ProviderCall.objects.create(message=msg, **values)


def delivery_event(msg: Message, status: str, **fields: Any) -> DeliveryEvent:
    values: dict[str, Any] = {
        "provider": msg.provider,
        "provider_message_id": msg.provider_message_id or f"SM{msg.pk}",
        "dedupe_key": f"{msg.pk}:{status}",
        "status": status,
        "payload": {"MessageStatus": status, "To": msg.phone},
    }
    values.update(fields)
    return DeliveryEvent.objects.create(message=msg, **values)


def seed_operations(today: date) -> dict[str, Any]:
    """A small, known picture: today's daily send, spend, failures, opt-ins and an opt-out.

    today is the reports' (UTC) day of the messages; the daily broadcast is the
    send timezone's today, as the daily send makes it.
    """
    for n in range(3):
        consent.change(f"+1312555010{n}", "opted_in", "web_form", {"form": "test"})
    consent.change("+13125550100", "opted_out", "sms_keyword", {"text": "STOP"})
    send_day = daily.local_today()
    broadcast = Broadcast.objects.create(
        idempotency_key=daily.key_for(send_day),
        name=f"Daily {send_day}",
        date=send_day,
        text="Today's tip",
        state="sending",
        total=4,
    )
    now = timezone.now()
    made = {
        "delivered": message(now, broadcast=broadcast, kind="broadcast", phone="+13125550101"),
        "failed": message(
            now,
            broadcast=broadcast,
            kind="broadcast",
            phone="+13125550102",
            status="failed",
            error_code="30003",
            price_estimated=Decimal("0.0166"),
        ),
        "whatsapp": message(
            now,
            channel="whatsapp",
            phone="+13125550103",
            status="read",
            price_estimated=Decimal("0.005"),
            price_actual=Decimal("0.0042"),
        ),
        "yesterday": message(at(today - timedelta(days=1)), phone="+13125550104", segments=2,
                             price_estimated=Decimal("0.0166")),
    }  # fmt: skip
    return {"broadcast": broadcast, **made}
