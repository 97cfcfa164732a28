"""The broadcast and daily-content admin, through the admin's own views."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from messaging.broadcasts import daily
from messaging.models import Broadcast, BroadcastState, DailyContent, Message, MessageStatus
from messaging.outbound import dispatch
from messaging.providers.base import ErrorKind, ProviderError
from smsbot.models import OutboxTask
from smsbot.timezones import shown_date
from tests.messaging.pipeline.conftest import opted_in
from tests.ops.factories import message

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:messaging_broadcast_changelist"


@pytest.fixture
def staff(client):  # type: ignore[no-untyped-def]
    user = User.objects.create_superuser("ops", "ops@example.test", "pw-for-tests-only")
    client.force_login(user)
    return client


def test_compose_preview_then_send_an_ad_hoc_broadcast(staff, settings):
    settings.SMS_PROVIDER = "sns"
    opted_in(3)
    opted_in(2, start=150, channel="whatsapp")
    text = "Big news: we’re live! " + "More text. " * 8
    response = staff.post(
        reverse("admin:messaging_broadcast_add"),
        {"name": "Launch", "text": text, "channel": "sms", "whatsapp_content_variables": "{}",
         "_preview": "Preview"},
    )  # fmt: skip
    broadcast = Broadcast.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:messaging_broadcast_preview", args=[broadcast.pk])
    assert broadcast.state == BroadcastState.DRAFT and broadcast.idempotency_key.startswith(
        "adhoc:"
    )

    page = staff.get(response.url).content.decode()
    assert '<td id="recipients">3</td>' in page  # the SMS filter leaves out WhatsApp
    assert '<td id="segments">2</td>' in page and "UCS-2" in page
    assert "curly quote" in page
    assert '<td id="cost">0.0387 USD</td>' in page  # 3 × 2 segments × 0.00645
    assert not Message.objects.exists()

    response = staff.post(reverse("admin:messaging_broadcast_preview", args=[broadcast.pk]),
                          {"send": "1", "confirmed": "1"})  # fmt: skip
    assert response.status_code == 302
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.SENDING and broadcast.created_by.username == "ops"
    assert OutboxTask.objects.filter(task_name="messaging.fan_out", args=[broadcast.pk]).exists()
    # Sending twice from a stale page does nothing more.
    staff.post(
        reverse("admin:messaging_broadcast_preview", args=[broadcast.pk]),
        {"send": "1", "confirmed": "1"},
    )
    assert OutboxTask.objects.filter(task_name="messaging.fan_out").count() == 1


def make_broadcast(state: str, **counts: int) -> Broadcast:
    return Broadcast.objects.create(
        idempotency_key=f"k{Broadcast.objects.count()}", name="B", text="Hi", state=state,
        fanout_done=True, **counts,
    )  # fmt: skip


def test_the_list_shows_progress(staff):
    sending = make_broadcast(BroadcastState.SENDING)
    for status in ("sent", "delivered", "undelivered", "skipped", "queued"):
        message(broadcast=sending, kind="broadcast", status=status)
    # Settled long ago: its stored recount is shown, no message is read.
    make_broadcast(BroadcastState.DONE, total=3, delivered=2, failed=1,
                   finished_at=timezone.now() - timedelta(days=30))  # fmt: skip
    page = staff.get(reverse(CHANGELIST)).content.decode()
    assert 'data-live="bar" value="4" max="5"' in page and "4 of 5 processed (80%)" in page
    assert 'data-live="bar" value="3" max="3"' in page and "3 of 3 processed (100%)" in page


def act(client, action: str, broadcast: Broadcast):  # type: ignore[no-untyped-def]
    return client.post(
        reverse(CHANGELIST), {"action": action, "_selected_action": [broadcast.pk]}, follow=True
    )


def test_pause_resume_cancel_and_retry_failed_actions(staff):
    subs = opted_in(3)
    broadcast = make_broadcast(BroadcastState.SENDING)
    for sub, status in zip(subs, ["queued", "failed", "queued"], strict=True):
        Message.objects.create(
            direction="outbound", kind="broadcast", provider="console", phone=sub.phone,
            subscriber=sub, broadcast=broadcast, body="Hi", status=status, attempts=1,
        )  # fmt: skip

    act(staff, "pause_selected", broadcast)
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.PAUSED and "ops" in broadcast.pause_reason

    OutboxTask.objects.all().delete()
    act(staff, "resume_selected", broadcast)
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.SENDING and broadcast.pause_reason == ""
    queued_ids = sorted(Message.objects.filter(status="queued").values_list("id", flat=True))
    assert OutboxTask.objects.get(task_name="messaging.queue_sends").args == [queued_ids]

    act(staff, "retry_failed_selected", broadcast)
    assert Message.objects.filter(status="queued").count() == 3
    assert Message.objects.filter(status="queued", attempts=0).count() == 1

    act(staff, "cancel_selected", broadcast)
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.CANCELLED
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SKIPPED}
    assert broadcast.skipped == 3


def test_a_configuration_error_shows_a_banner_until_dismissed(staff, recording):
    (sub,) = opted_in(1)
    broadcast = make_broadcast(BroadcastState.SENDING)
    msg = Message.objects.create(
        direction="outbound", kind="broadcast", provider="recording", phone=sub.phone,
        subscriber=sub, broadcast=broadcast, body="Hi", status="queued",
    )  # fmt: skip
    recording.FAILURES[sub.phone] = [ProviderError(ErrorKind.CONFIG, "20003", "bad auth")]
    dispatch.send(msg.pk)
    page = staff.get(reverse(CHANGELIST)).content.decode()
    assert "Provider configuration error (recording 20003)" in page
    assert "check the Twilio credentials" in page
    staff.post(reverse("admin:messaging_broadcast_dismiss_config"))
    assert "Provider configuration error" not in staff.get(reverse(CHANGELIST)).content.decode()


def test_the_budget_banner_appears_at_80_percent(staff, settings):
    settings.SMS_MONTHLY_SPEND_LIMIT_USD = Decimal("1.00")
    (sub,) = opted_in(1)
    Message.objects.create(
        direction="outbound", kind="broadcast", provider="sns", phone=sub.phone, subscriber=sub,
        body="Hi", status="sent", price_estimated=Decimal("0.50"), price_actual=Decimal("0.85"),
    )  # fmt: skip
    page = staff.get(reverse(CHANGELIST)).content.decode()
    assert "Month-to-date spend 0.85 USD is 85.0% of the 1.00 USD monthly limit" in page


def test_daily_content_shows_segment_warnings_and_missing_days(staff):
    today = daily.local_today()
    DailyContent.objects.create(date=today, text="Plain and short")
    DailyContent.objects.create(date=today + timedelta(days=1), text="Don’t miss it")
    page = staff.get(reverse("admin:messaging_dailycontent_changelist")).content.decode()
    assert "1 × GSM-7" in page
    assert "⚠ 1 × UCS-2" in page and "curly quote" in page
    assert shown_date(today + timedelta(days=2)) in page and "will be skipped" in page

    response = staff.post(
        reverse("admin:messaging_dailycontent_add"),
        {"date": (today + timedelta(days=3)).isoformat(), "text": "Non\u00a0breaking",
         "whatsapp_content_sid": "", "whatsapp_content_variables": "{}"},
        follow=True,
    )  # fmt: skip
    assert "non-breaking space" in response.content.decode()


def test_daily_content_imports_from_csv_with_per_row_errors(staff):
    url = reverse("admin:messaging_dailycontent_import")
    good = (
        "date,text,whatsapp_content_sid,whatsapp_content_variables\n"
        '2027-01-01,Happy new year,HX1,"{""1"": ""Ann""}"\n'
        "2027-01-02,Second day,,\n"
    )
    bad = good + "2027-02-30,Bad date,,\n2027-01-04,,,\n"

    def upload(content: str):  # type: ignore[no-untyped-def]
        return staff.post(
            url,
            {"resource": "0", "format": "0",
             "import_file": SimpleUploadedFile("daily.csv", content.encode(), "text/csv")},
        )  # fmt: skip

    response = upload(bad)
    page = response.content.decode()
    assert "Errors" in page or "errors" in page
    assert "text is empty" in page
    assert not DailyContent.objects.exists()

    response = upload(good)
    assert response.status_code == 200
    confirm = response.context["confirm_form"].initial
    done = staff.post(reverse("admin:messaging_dailycontent_process_import"), confirm)
    assert done.status_code == 302
    first = DailyContent.objects.get(date=date(2027, 1, 1))
    assert first.whatsapp_content_sid == "HX1" and first.whatsapp_content_variables == {"1": "Ann"}
    assert DailyContent.objects.get(date=date(2027, 1, 2)).text == "Second day"
