"""Outcomes that never came become unknown on every screen, and a late report still
settles them; a broadcast whose reports turn bad pauses itself (the brake), shows it
on the admin home, and resumes only with a reason, sending nothing twice."""

import html
import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from messaging.broadcasts import states
from messaging.delivery.error_codes import CONTENT_BLOCKING
from messaging.models import Broadcast, BroadcastState, Message, MessageStatus
from messaging.providers.aws_sms import events
from messaging.tasks import mark_unknown_outcomes
from smsbot import aws as smsbot_aws
from smsbot.aws_names import ALERTS_TOPIC
from tests.fakes.twilio_server import FakeTwilio
from tests.messaging.pipeline.conftest import opted_in, wait_for
from tests.messaging.webhooks.conftest import AUTH_TOKEN, TwilioPoster, new_sid
from tests.ops.factories import ops_manager

pytestmark = pytest.mark.django_db


def broadcast_of(sent: int, queued: int = 0) -> tuple[Broadcast, list[Message]]:
    broadcast = Broadcast.objects.create(
        idempotency_key="adhoc:brake",
        name="Flash offer",
        text="Offer today",
        state=BroadcastState.SENDING,
        fanout_done=True,
    )
    made = [
        Message.objects.create(
            direction="outbound", kind="broadcast", provider="twilio", phone=s.phone,
            subscriber=s, broadcast=broadcast, body="Offer today",
            status="sent" if i < sent else "queued",
            provider_message_id=new_sid() if i < sent else None,
            sent_at=timezone.now() if i < sent else None,
        )
        for i, s in enumerate(opted_in(sent + queued))
    ]  # fmt: skip
    return broadcast, made


def test_a_message_past_the_horizon_is_unknown_everywhere_until_a_late_report(twilio, admin_client):
    broadcast, (late, fresh) = broadcast_of(2)
    Message.objects.filter(pk=late.pk).update(sent_at=timezone.now() - timedelta(hours=25))
    assert mark_unknown_outcomes() == {"twilio": 1}
    assert Message.objects.get(pk=late.pk).status == MessageStatus.UNKNOWN
    assert Message.objects.get(pk=fresh.pk).status == MessageStatus.SENT

    listed = admin_client.get("/admin/messaging/message/", {"outcome": "unknown"})
    assert listed.status_code == 200 and listed.context["cl"].result_count == 1
    live = admin_client.get(reverse("admin:messaging_broadcast_progress"), {"id": broadcast.pk})
    assert live.json()["broadcasts"][0]["text"]["unknown"] == "1"
    assert live.json()["broadcasts"][0]["text"]["sent"] == "1"  # never silently "sent"
    home = admin_client.get("/admin/").content.decode()
    assert "Outcome unknown: twilio 1" in home and "outcome=unknown" in home
    page = admin_client.get(reverse("admin:messaging_broadcast_change", args=[broadcast.pk]))
    assert "Unknown (no report)" in page.content.decode()

    twilio.status(late.provider_message_id, "delivered")  # the report came late after all
    assert Message.objects.get(pk=late.pk).status == MessageStatus.DELIVERED
    assert twilio.status(fresh.provider_message_id, "sent").status_code < 300
    assert mark_unknown_outcomes() == {}  # the fresh one is inside its horizon


def test_failure_spike_brakes_the_broadcast_and_a_reasoned_resume_sends_nothing_twice(
    twilio, admin_client
):
    cache.clear()
    broadcast, made = broadcast_of(sent=70, queued=5)
    reported = made[:70]
    for m in reported[:55]:
        twilio.status(m.provider_message_id, "delivered")
    for m in reported[55:]:  # 15 of 70 (21 %) undelivered, above 15 %
        twilio.status(m.provider_message_id, "undelivered", ErrorCode="30003")
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.PAUSED and broadcast.braked_at is not None
    assert "brake: failures" in broadcast.pause_reason and "30003" in broadcast.pause_reason
    home = admin_client.get("/admin/").content.decode()
    assert "Flash offer" in home and "brake: failures" in home

    act = reverse("admin:messaging_broadcast_act", args=[broadcast.pk])
    admin_client.post(act, {"operation": "resume"})  # no reason: refused
    assert Broadcast.objects.get(pk=broadcast.pk).state == BroadcastState.PAUSED
    before = dict(Message.objects.filter(broadcast=broadcast).values_list("pk", "status"))
    admin_client.post(act, {"operation": "resume", "reason": "carrier outage over"})
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.SENDING and broadcast.braked_at is None
    after = dict(Message.objects.filter(broadcast=broadcast).values_list("pk", "status"))
    # What was claimed (sent, delivered, undelivered) stays as it was: nothing goes again.
    assert {pk: s for pk, s in after.items() if s != "queued"} == {
        pk: s for pk, s in before.items() if s != "queued"
    }
    assert len(after) == 75


def test_the_brake_check_costs_a_failure_report_one_statement_and_a_delivered_none(twilio):
    _, made = broadcast_of(sent=4)
    with CaptureQueriesContext(connection) as delivered:
        twilio.status(made[0].provider_message_id, "delivered")
    with CaptureQueriesContext(connection) as other_delivered:
        twilio.status(made[1].provider_message_id, "delivered")
    with CaptureQueriesContext(connection) as failed:
        twilio.status(made[2].provider_message_id, "undelivered")
    assert len(other_delivered) == len(delivered)
    # The brake's window query is the one extra: within 1.2x of a plain report.
    assert len(failed) - len(delivered) <= 1
    assert len(failed) <= 1.2 * len(delivered)


def test_end_user_messagings_content_blocking_events_are_what_the_brake_counts():
    assert events.EVENTS["TEXT_SPAM"][1] in CONTENT_BLOCKING
    assert events.EVENTS["TEXT_BLOCKED"][1] in CONTENT_BLOCKING


def test_a_braked_broadcast_tells_the_alerts_topic_and_resumes_sending_nothing_twice(
    celery_worker, aws, settings
):
    """A real send through a real worker to the fake Twilio; signed status callbacks turn
    bad (4 of the first 24 undelivered, 30003): the broadcast pauses itself, the admin
    home's banner and the alerts topic (moto's SNS, read from an SQS queue subscribed to
    it) say which broadcast, which errors and what to do; an Operations Manager resumes
    it with a reason, and the fake's request log shows every number sent to once."""
    sns, sqs = smsbot_aws.client("sns"), smsbot_aws.client("sqs")
    topic = sns.create_topic(Name=smsbot_aws.resource_name(ALERTS_TOPIC))["TopicArn"]
    inbox = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn["Attributes"]["QueueArn"],
                  Attributes={"RawMessageDelivery": "true"})  # fmt: skip
    settings.ALERT_EMAILS = ["ops@example.com"]
    settings.BROADCAST_BRAKE_MIN_REPORTS = 20
    settings.QUIET_HOURS = ""
    settings.SMS_PROVIDER, settings.SMS_SEND_RATE = "twilio", 4  # slow: most still queued

    with FakeTwilio(auth_token=AUTH_TOKEN) as server:
        for name, value in server.settings().items():
            setattr(settings, name, value)
        settings.TWILIO_SMS_FROM, settings.TWILIO_MESSAGING_SERVICE_SID = "+13125550199", ""
        settings.TWILIO_VALIDATE_SIGNATURES = True
        opted_in(60)
        broadcast = Broadcast.objects.create(
            idempotency_key="adhoc:brake-alert", name="Flash offer", text="Offer today"
        )
        assert states.start(broadcast)
        sent = Message.objects.filter(broadcast=broadcast, provider_message_id__isnull=False)
        wait_for(lambda: sent.count() >= 24, what="24 messages sent")
        callbacks = TwilioPoster(Client(), settings.PUBLIC_BASE_URL)
        first = list(sent.order_by("sent_at", "pk")[:24])
        for m in first[:20]:
            assert callbacks.status(m.provider_message_id, "delivered").status_code == 204
        for m in first[20:]:
            callbacks.status(m.provider_message_id, "undelivered", ErrorCode="30003")
        broadcast.refresh_from_db()
        assert broadcast.state == BroadcastState.PAUSED and broadcast.braked_at is not None
        # What was claimed goes on; nothing more is claimed.
        wait_for(lambda: not Message.objects.filter(broadcast=broadcast, status="sending")
                 .exists(), what="the claimed sends to finish")  # fmt: skip
        requests_while_paused = len(server.requests)
        assert Message.objects.filter(broadcast=broadcast, status="queued").exists()

        # The alert: which broadcast, its errors with counts, what to do and where.
        received: list[dict] = []
        wait_for(lambda: received.extend(sqs.receive_message(
            QueueUrl=inbox, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []))
            or received, what="the alert on the alerts topic")  # fmt: skip
        alert = received[0]["Body"]
        page = reverse("admin:messaging_broadcast_change", args=[broadcast.pk])
        assert "Flash offer" in alert and "30003 ×4" in alert and "4 of the last 24" in alert
        assert "resumes or cancels it" in alert and f"{settings.PUBLIC_BASE_URL}{page}" in alert

        manager = Client()
        manager.force_login(ops_manager("manager", ("messaging.change_broadcast",)))
        home = manager.get("/admin/").content.decode()
        banner = alert.split("\n\n")[0]  # the banner says what the alert says
        assert html.escape(banner, quote=False) in home and f'href="{page}"' in home
        assert len(server.requests) == requests_while_paused  # paused: nothing went

        act = reverse("admin:messaging_broadcast_act", args=[broadcast.pk])
        manager.post(act, {"operation": "resume", "reason": "carrier outage over"})
        broadcast.refresh_from_db()
        assert broadcast.state == BroadcastState.SENDING and broadcast.braked_at is None
        wait_for(lambda: sent.count() == 60, timeout=60, what="the rest sent after resuming")
        sends = [r.form["To"] for r in server.requests if r.path.endswith("/Messages.json")]
    assert len(sends) == 60 and len(set(sends)) == 60  # each number once, none twice
    entry = LogEntry.objects.get(object_id=str(broadcast.pk), change_message__contains="outage")
    assert entry.user.username == "manager"


def test_as_the_clock_passes_each_providers_horizon_every_screen_says_unknown(clock, admin_client):
    """Twilio's horizon (DELIVERY_REPORT_HORIZON_TWILIO_HOURS, 24) passes first, SNS's (AWS
    keeps delivery logs 72 hours) later: the daily reconcile names each provider's, and
    the broadcast's page, its dashboard card, the delivery card, the message list's
    filter and the banner count them as unknown, never as sent."""
    start = timezone.now()
    broadcast, _ = broadcast_of(sent=3)  # through Twilio
    (aws,) = opted_in(1, start=150)
    Message.objects.create(
        direction="outbound", kind="broadcast", provider="sns", phone=aws.phone, subscriber=aws,
        broadcast=broadcast, body="Offer today", status="sent", sent_at=start,
        provider_message_id="sns-message-id-150",
    )  # fmt: skip

    def screens() -> dict[str, int]:
        page = admin_client.get(reverse("admin:messaging_broadcast_change", args=[broadcast.pk]))
        home = admin_client.get("/admin/").content.decode()
        card = home[home.index('id="ops-adhoc"') :]
        delivery = home[home.index('id="ops-delivery"') :]
        listed = admin_client.get("/admin/messaging/message/", {"outcome": "unknown"})
        live = f'data-broadcast="{broadcast.pk}" data-live="unknown">(\\d+)<'
        return {
            "page": int(re.search(live, page.content.decode())[1]),
            "dashboard card": int(re.search(live, card)[1]),
            # Last 7 days' row: delivered, failed, awaiting, unknown (each a link).
            "delivery card": int(re.findall(r">(\d+)</a></td>", delivery)[3]),
            "message list": listed.context["cl"].result_count,
        }

    clock.set(start + timedelta(hours=23))
    assert mark_unknown_outcomes() == {}
    assert set(screens().values()) == {0}

    clock.set(start + timedelta(hours=25))
    assert mark_unknown_outcomes() == {"twilio": 3}  # the daily reconcile, per provider
    assert screens() == dict.fromkeys(screens(), 3)
    home = admin_client.get("/admin/").content.decode()
    assert "Outcome unknown: twilio 3 message(s)" in home
    live = admin_client.get(reverse("admin:messaging_broadcast_progress"), {"id": broadcast.pk})
    assert live.json()["broadcasts"][0]["text"]["sent"] == "1"  # SNS's: still in its horizon

    clock.set(start + timedelta(hours=73))
    assert mark_unknown_outcomes() == {"sns": 1}
    assert screens() == dict.fromkeys(screens(), 4)
    assert (
        "Outcome unknown: sns 1, twilio 3 message(s)"
        in admin_client.get("/admin/").content.decode()
    )
    sns_only = admin_client.get(
        "/admin/messaging/message/", {"outcome": "unknown", "provider__exact": "sns"}
    )
    assert sns_only.context["cl"].result_count == 1
