"""The console provider reports delivery a moment after a send, as a provider's callback would."""

import time
from datetime import date

from django.core.management import call_command

from messaging import outcomes
from messaging.delivery.reports import adopt_early_reports
from messaging.models import Broadcast, DailyContent, DeliveryEvent, Message, MessageStatus
from messaging.providers import console
from subscribers.models import Subscriber
from tests.messaging.pipeline.conftest import opted_in, wait_for

DAY = date(2026, 11, 23)
SUBSCRIBERS = 6


def console_broadcast(settings, failure_percent: float) -> Broadcast:  # type: ignore[no-untyped-def]
    settings.SMS_PROVIDER = "console"
    settings.SMS_SEND_RATE = 1000
    settings.CONSOLE_DELIVERY_DELAY_SECONDS = 0.2
    settings.CONSOLE_FAILURE_PERCENT = failure_percent
    opted_in(SUBSCRIBERS)
    DailyContent.objects.create(date=DAY, text="Console demo")
    call_command("send_daily", "--date", DAY.isoformat())
    return Broadcast.objects.get(idempotency_key=f"daily:{DAY}")


def reported(broadcast: Broadcast, status: str) -> bool:
    """Every message of the broadcast has that status.

    A report that comes in before its send is written is joined to its message
    by the minute's sweep; the test does the sweep's part as it waits.
    """
    adopt_early_reports()
    statuses = list(broadcast.messages.values_list("status", flat=True))
    return len(statuses) == SUBSCRIBERS and set(statuses) == {status}


def test_console_sends_are_reported_delivered_through_the_delivery_path(celery_worker, settings):
    broadcast = console_broadcast(settings, failure_percent=0)
    wait_for(lambda: reported(broadcast, MessageStatus.DELIVERED), what="delivery reports")
    messages = Message.objects.filter(broadcast=broadcast)
    events = DeliveryEvent.objects.filter(message__in=messages)
    assert events.count() == 6 and set(events.values_list("provider", flat=True)) == {"console"}
    assert all(m.delivered_at for m in messages)
    # The dashboard's figures see them: success is no longer "no data yet".
    counts = outcomes.outcomes(broadcast)
    assert (counts["delivered"], counts["failed"]) == (6, 0)


def test_a_few_simulated_failures_leave_the_numbers_alone(celery_worker, settings):
    broadcast = console_broadcast(settings, failure_percent=100)
    wait_for(lambda: reported(broadcast, MessageStatus.UNDELIVERED), what="failure reports")
    codes = set(broadcast.messages.values_list("error_code", flat=True))
    assert codes <= set(console.SIMULATED_ERRORS)
    # Handset unreachable: nobody is opted out or marked undeliverable by a demo.
    assert not Subscriber.objects.filter(undeliverable=True).exists()
    assert set(Subscriber.objects.values_list("consent_status", flat=True)) == {"opted_in"}


def test_reports_can_be_switched_off(celery_worker, settings):
    settings.CONSOLE_DELIVERY_REPORTS = False
    broadcast = console_broadcast(settings, failure_percent=0)
    wait_for(lambda: reported(broadcast, MessageStatus.SENT), what="the sends")
    # Five times the reports' delay: long enough for one to have come.
    time.sleep(1.0)
    assert not DeliveryEvent.objects.exists()


def test_the_simulated_report_draws_its_outcome():
    delivered = console.simulated_report("console-1", draw=0.5)
    assert (delivered.status, delivered.error_code, delivered.provider) == (
        "delivered",
        "",
        "console",
    )
    failed = console.simulated_report("console-1", draw=0.01)
    assert failed.status == "undelivered" and failed.error_code in console.SIMULATED_ERRORS
    assert failed.dedupe_key != delivered.dedupe_key
