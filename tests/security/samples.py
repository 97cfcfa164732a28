"""One row of every model the admin shows, so that every page of it can be opened."""

from collections.abc import Callable
from datetime import date
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group, User
from django.db import models
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_otp.plugins.otp_totp.models import TOTPDevice

from messaging import task_names
from messaging.broadcasts import schedule
from messaging.models import (
    Broadcast,
    CountryPrice,
    DailyContent,
    DailyScheduleTask,
    DeliveryEvent,
    Message,
    ProviderCall,
)
from smsbot import audit
from smsbot.models import AuditEntry, ImportPreview
from subscribers import consent
from subscribers.models import ConsentEvent, Conversation, Subscriber, SubscriberExport
from tests.ops.factories import delivery_event, message, provider_call

ACCESS = {
    "user_agent": "test",
    "ip_address": "192.0.2.10",  # TEST-NET-1: never the client of a test
    "username": "someone",
    "http_accept": "*/*",
    "path_info": "/admin/login/",
}


def make_samples(phone: str = "+13125550123") -> dict[type[models.Model], models.Model]:
    """Every registered model -> one row of it (tests fail on a model missing here)."""
    subscriber = consent.change(phone, "opted_in", "web_form", {"form": "test"}).subscriber
    msg = message(phone=subscriber.phone, status="failed", error_code="30003")
    crontab = CrontabSchedule.objects.create(hour="10", minute="0", timezone="America/Chicago")
    user = User.objects.create_user("sample-user", password="sample-password-0123")
    made: dict[type[models.Model], Callable[[], Any]] = {
        User: lambda: user,
        Group: lambda: Group.objects.create(name="Sample group"),
        Subscriber: lambda: subscriber,
        ConsentEvent: lambda: ConsentEvent.objects.get(subscriber=subscriber),
        Conversation: lambda: Conversation.objects.create(phone_number=subscriber.phone),
        Broadcast: lambda: Broadcast.objects.create(
            idempotency_key="adhoc:sample", name="Sample", text="Hello", state="draft"
        ),
        DailyContent: lambda: DailyContent.objects.create(date=date(2027, 1, 1), text="Hi"),
        # A country of its own: the migration's rows do not survive a flushed database.
        CountryPrice: lambda: CountryPrice.objects.create(
            provider="sns", channel="sms", country="AU", price_usd="0.03950"
        ),
        Message: lambda: msg,
        DeliveryEvent: lambda: delivery_event(msg, "failed"),
        ProviderCall: lambda: provider_call(msg),
        CrontabSchedule: lambda: crontab,
        IntervalSchedule: lambda: IntervalSchedule.objects.create(every=5, period="minutes"),
        SolarSchedule: lambda: SolarSchedule.objects.create(
            event="sunrise", latitude=41.88, longitude=-87.63
        ),
        ClockedSchedule: lambda: ClockedSchedule.objects.create(clocked_time=timezone.now()),
        PeriodicTask: lambda: PeriodicTask.objects.create(
            name="sample-task", task=task_names.START_DAILY_BROADCAST, crontab=crontab
        ),
        AccessAttempt: lambda: AccessAttempt.objects.create(
            **ACCESS, get_data="", post_data="", failures_since_start=1
        ),
        AccessLog: lambda: AccessLog.objects.create(**ACCESS),
        AccessFailureLog: lambda: AccessFailureLog.objects.create(**ACCESS),
        TOTPDevice: lambda: TOTPDevice.objects.create(user=user, name="phone", confirmed=True),
        DailyScheduleTask: lambda: DailyScheduleTask.objects.get(name=schedule.PERIODIC_TASK_NAME),
        # Not a model of its own in the admin: the export pages of the subscriber list.
        SubscriberExport: lambda: SubscriberExport.objects.create(
            requested_by=user, state="done", total=0, finished_at=timezone.now()
        ),
        # Not a model of its own in the admin: a large import's preview pages.
        ImportPreview: lambda: ImportPreview.objects.create(
            requested_by=user, admin="subscribers.subscriber", stored_name="0" * 32
        ),
        AuditEntry: lambda: AuditEntry.objects.get(
            pk=audit.record(user, subscriber, "Sampled")[0].pk
        ),
    }
    return {model: make() for model, make in made.items()}
