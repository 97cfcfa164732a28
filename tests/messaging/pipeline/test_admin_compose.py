"""Composing, sending and scheduling broadcasts, and the Daily schedule, through the admin's views.

Who may do what, what is recorded in the audit log, and what the pages and the
progress view answer.
"""

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from messaging import task_names
from messaging.billing import segments
from messaging.broadcasts import schedule
from messaging.models import Broadcast, BroadcastState, Message, MessageKind
from smsbot.models import OutboxTask
from tests.messaging.pipeline.conftest import opted_in
from tests.ops.factories import OPERATOR_PERMISSIONS, VIEW_PERMISSIONS, message

pytestmark = pytest.mark.django_db
SCHEDULE = reverse("admin:messaging_dailyscheduletask_changelist")


DEVOPS = ("messaging.view_dailyscheduletask", "messaging.change_dailyscheduletask")


def staff(username: str, *permissions: str) -> Any:
    """A staff user with the view permissions and these, in a group of their own
    (the factories' users share one group, which the migrations also fill)."""
    group = Group.objects.create(name=f"{username} role")
    for name in (*VIEW_PERMISSIONS, *permissions):
        app_label, codename = name.split(".")
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    user = get_user_model().objects.create_user(username, password="pw-for-tests-only")
    user.is_staff = True
    user.save()
    user.groups.add(group)
    return user


@pytest.fixture
def operator(client):  # type: ignore[no-untyped-def]
    client.force_login(staff("ops", *OPERATOR_PERMISSIONS))
    return client


@pytest.fixture
def viewer(client):  # type: ignore[no-untyped-def]
    client.force_login(staff("viewer"))
    return client


def draft(**fields: object) -> Broadcast:
    values = {"idempotency_key": "adhoc:x", "name": "Launch", "text": "We are live"}
    return Broadcast.objects.create(**{**values, **fields})


def preview(broadcast: Broadcast) -> str:
    return reverse("admin:messaging_broadcast_preview", args=[broadcast.pk])


def page(broadcast: Broadcast) -> str:
    return reverse("admin:messaging_broadcast_change", args=[broadcast.pk])


def audit_lines(broadcast: Broadcast) -> list[str]:
    rows = LogEntry.objects.filter(object_id=str(broadcast.pk)).order_by("id")
    return [row.change_message for row in rows]


def test_the_groups_may_compose_and_only_devops_change_the_schedule():
    ops = set(
        Group.objects.get(name="Operations Manager").permissions.values_list("codename", flat=True)
    )
    devops = set(Group.objects.get(name="DevOps").permissions.values_list("codename", flat=True))
    assert {"add_broadcast", "change_broadcast", "view_dailyscheduletask"} <= ops
    assert "change_dailyscheduletask" not in ops and "delete_broadcast" not in ops
    assert {"view_dailyscheduletask", "change_dailyscheduletask"} <= devops


def test_the_compose_form_has_only_what_an_operator_sets_and_the_counters_data(operator, settings):
    settings.SMS_PROVIDER = "sns"
    opted_in(2)
    opted_in(1, start=150, channel="whatsapp")
    response = operator.get(reverse("admin:messaging_broadcast_add"))
    fields = set(response.context["adminform"].form.fields)
    assert fields == {
        "name", "text", "channel", "whatsapp_content_sid", "whatsapp_content_variables",
        "scheduled_for",
    }  # fmt: skip
    html = response.content.decode()

    def data(name: str) -> Any:
        return json.loads(unescape(re.search(rf'data-{name}="([^"]*)"', html).group(1)))

    rates = data("rates")
    assert rates == [
        {"channel": "sms", "label": "SMS", "recipients": 2, "unit": "0.00645",
         "template_unit": "0.00645", "per_segment": True},
        # The average over the audience's countries (prices per country, seeded).
        {"channel": "whatsapp", "label": "WhatsApp", "recipients": 1, "unit": "0.00500",
         "template_unit": "0.02500", "per_segment": False},
    ]  # fmt: skip
    assert set(data("gsm-extended")) == segments.GSM7_EXTENDED
    assert set(data("gsm-basic")) == segments.GSM7_BASIC
    assert "Compose a broadcast" in html and "Idempotency" not in html


def test_schedule_for_is_typed_in_the_operations_timezone_and_must_be_ahead(operator):
    url = reverse("admin:messaging_broadcast_add")
    form = {"name": "Later", "text": "Hi", "channel": "", "whatsapp_content_variables": "{}"}
    response = operator.post(url, {**form, "scheduled_for": "2020-01-15 09:30"})
    assert "Pick a time in the future" in response.content.decode()
    # A month-first date is not read: 01/02 is the 2nd of January to some, the 1st of February
    # to others.
    response = operator.post(url, {**form, "scheduled_for": "01/02/2031 09:30"})
    assert "Enter a valid date/time." in response.content.decode()
    assert not Broadcast.objects.exists()

    response = operator.post(url, {**form, "scheduled_for": "2031-01-15 09:30", "_preview": "1"})
    broadcast = Broadcast.objects.get()
    assert response.url == preview(broadcast)
    # 09:30 in Chicago in January (CST, UTC-6).
    assert broadcast.scheduled_for == datetime(2031, 1, 15, 15, 30, tzinfo=UTC)
    assert broadcast.state == BroadcastState.DRAFT  # not scheduled until confirmed
    response = operator.get(page(broadcast))
    html = response.content.decode()
    assert 'value="2031-01-15 09:30"' in html and 'placeholder="YYYY-MM-DD HH:MM"' in html
    assert "Times in America/Chicago (C" in html  # CST or CDT, as it is now


def test_preview_then_schedule_is_recorded(operator):
    when = timezone.now() + timedelta(days=2)
    broadcast = draft(scheduled_for=when)
    html = operator.get(preview(broadcast)).content.decode()
    assert "Schedule for " in html and "Send now" not in html
    response = operator.post(preview(broadcast), {"schedule": "1"})
    assert response.url == page(broadcast)
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.SCHEDULED and broadcast.scheduled_for == when
    assert audit_lines(broadcast)[-1].startswith("Scheduled: state: draft → scheduled (to start ")
    html = operator.get(page(broadcast)).content.decode()
    assert "Scheduled for " in html and 'value="unschedule"' in html and 'value="cancel"' in html
    assert f'href="{preview(broadcast)}">Preview and test' in html  # a test until it starts


def test_a_time_that_passed_on_the_preview_is_not_scheduled(operator):
    broadcast = draft(scheduled_for=timezone.now() - timedelta(minutes=1))
    operator.post(preview(broadcast), {"schedule": "1"})
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.DRAFT
    assert not audit_lines(broadcast)


def test_send_now_and_a_test_are_recorded(operator):
    opted_in(1, start=199)
    broadcast = draft()
    response = operator.post(preview(broadcast), {"test": "1", "phone": "312 555 0199"})
    assert response.url == preview(broadcast)
    test = Message.objects.get(kind=MessageKind.TEST)
    assert audit_lines(broadcast) == [f"Sent a test (message {test.pk} to +1******0199)"]
    refused = operator.post(preview(broadcast), {"test": "1", "phone": "312 555 0188"})
    assert "+13125550188 is not a subscriber" in refused.content.decode()

    operator.post(preview(broadcast), {"send": "1"})
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.SENDING
    assert audit_lines(broadcast)[-1] == "Started sending: state: draft → sending"
    assert OutboxTask.objects.filter(task_name=task_names.FAN_OUT).count() == 1
    # The preview of a broadcast on its way leads to its page.
    assert operator.get(preview(broadcast)).url == page(broadcast)


def test_a_viewer_sees_but_cannot_send_test_or_act(viewer):
    opted_in(1, start=199)
    broadcast = draft()
    assert viewer.get(preview(broadcast)).status_code == 200
    for data in ({"send": "1"}, {"test": "1", "phone": "+13125550199"}):
        assert viewer.post(preview(broadcast), data).status_code == 403
    assert (
        viewer.post(
            reverse("admin:messaging_broadcast_act", args=[broadcast.pk]),
            {"operation": "cancel", "reason": "wrong audience"},
        ).status_code
        == 403
    )
    assert viewer.get(reverse("admin:messaging_broadcast_add")).status_code == 403
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.DRAFT and not Message.objects.exists()
    # Its page is the record view, with no buttons.
    html = viewer.get(page(broadcast)).content.decode()
    assert 'name="operation"' not in html and "Progress" in html


def test_the_buttons_of_a_broadcasts_page_act_and_are_recorded(operator):
    broadcast = draft(state=BroadcastState.SENDING, total=2, sent=1)
    act = reverse("admin:messaging_broadcast_act", args=[broadcast.pk])
    operator.post(act, {"operation": "pause", "reason": "checked"})
    operator.post(
        act, {"operation": "pause", "reason": "checked"}
    )  # a stale page: nothing more happens
    operator.post(act, {"operation": "resume", "reason": "checked"})
    operator.post(act, {"operation": "cancel", "reason": "wrong audience"})
    broadcast.refresh_from_db()
    assert broadcast.state == BroadcastState.CANCELLED
    assert audit_lines(broadcast) == [
        "Paused: state: sending → paused (checked)",
        "Resumed: state: paused → sending (checked)",
        "Cancelled: state: sending → cancelled (wrong audience)",
    ]
    assert operator.get(act).status_code == 403  # GET changes nothing


def test_list_actions_are_recorded_too(operator):
    broadcast = draft(state=BroadcastState.SENDING)
    operator.post(
        reverse("admin:messaging_broadcast_changelist"),
        {"action": "pause_selected", "_selected_action": [broadcast.pk]},
    )
    assert audit_lines(broadcast) == ["Paused: state: sending → paused"]


def test_the_progress_view_answers_the_live_fields(operator):
    sending = draft(state=BroadcastState.SENDING, fanout_done=True)
    for status in ("sent", "sent", "delivered", "undelivered", "skipped"):
        message(broadcast=sending, kind="broadcast", status=status)
    scheduled = draft(
        idempotency_key="adhoc:y",
        state=BroadcastState.SCHEDULED,
        scheduled_for=datetime(2031, 7, 1, 15, 0, tzinfo=UTC),
    )
    url = reverse("admin:messaging_broadcast_progress")
    data = operator.get(url, {"id": [sending.pk, scheduled.pk]}).json()["broadcasts"]
    by_id = {b["id"]: b for b in data}
    live = by_id[sending.pk]["text"]
    assert live["progress"] == "5 of 5 processed (100%)"
    assert (live["sent"], live["failed"], live["skipped"]) == ("2", "1", "1")
    # Cost so far and the base of the rates move with the rest: the skipped one costs nothing
    # and was not sent.
    assert (live["spent"], live["caused-sent"], live["channel_sms"]) == ("0.0332", "4", "5")
    assert by_id[sending.pk]["live"] and (by_id[sending.pk]["value"], by_id[sending.pk]["max"]) == (
        5, 5,
    )  # fmt: skip
    assert by_id[sending.pk]["actions"] == ["pause", "cancel", "retry_failed"]
    assert by_id[scheduled.pk]["text"]["state"] == "Scheduled for Tue 1 Jul 2031, 10:00 CDT"
    assert operator.get(url, {"id": "x"}).status_code == 400
    viewer = Client()
    viewer.force_login(staff("viewer"))
    assert viewer.get(url, {"id": sending.pk}).json()["broadcasts"][0]["actions"] == []


def test_from_a_broadcast_to_its_messages_and_back(operator):
    broadcast = draft(state=BroadcastState.DONE, total=1, sent=1, fanout_done=True)
    mine = message(broadcast=broadcast, kind="broadcast")
    message(kind="reply", phone="+13125550150")
    test = message(test_of=broadcast, kind="test", phone="+13125550199")
    html = operator.get(page(broadcast)).content.decode()
    messages_url = f"/admin/messaging/message/?broadcast__id__exact={broadcast.pk}"
    assert f'href="{messages_url}"' in html
    assert f"{messages_url}&amp;outcome=delivered" in html
    listed = operator.get(messages_url).context["cl"].result_list
    assert [m.pk for m in listed] == [mine.pk]  # the test is not one of its messages
    assert f"/admin/messaging/message/{test.pk}/change/" in html  # but listed as a test send

    for msg in (mine, test):
        shown = operator.get(reverse("admin:messaging_message_change", args=[msg.pk]))
        assert f'<a href="{page(broadcast)}">Launch</a>' in shown.content.decode()


def test_the_schedule_screen_changes_for_devops_and_reads_for_others(client):
    schedule.ensure_daily_schedule()
    ops = staff("ops", *OPERATOR_PERMISSIONS)
    devops = staff("devops", *DEVOPS)
    client.force_login(ops)
    html = client.get(SCHEDULE).content.decode()
    assert "Every day at 10:00 America/Chicago" in html and 'id="schedule-form"' not in html
    form = {"time": "06:15", "timezone": "America/New_York", "enabled": "on", "mode": "same_moment"}
    assert client.post(SCHEDULE, form).status_code == 403
    assert schedule.current().time == "10:00"

    client.force_login(devops)
    bad = client.post(SCHEDULE, {**form, "timezone": "other", "other_timezone": "Mars/Base"})
    assert "Pick a timezone from the list" in bad.content.decode()
    assert client.post(SCHEDULE, form).url == SCHEDULE
    assert (schedule.current().time, schedule.current().timezone) == ("06:15", "America/New_York")
    task = PeriodicTask.objects.get(name=schedule.PERIODIC_TASK_NAME)
    entry = LogEntry.objects.get(object_id=str(task.pk))
    assert entry.user == devops and entry.change_message == (
        "Changed the daily schedule: time: 10:00 → 06:15; "
        "timezone: America/Chicago → America/New_York"
    )
    assert entry.content_type.model == "dailyscheduletask"
    client.force_login(get_user_model().objects.create_user("nobody", is_staff=True))
    assert client.get(SCHEDULE).status_code == 403


def test_the_schedule_screen_warns_when_todays_broadcast_will_not_go(client, settings):
    settings.DAILY_FALLBACK_TEXT = "A word for today"  # a day with something to send
    schedule.ensure_daily_schedule()
    client.force_login(staff("devops", *DEVOPS))
    # A zone where an hour of today is already behind us (six hours apart, one always is).
    now, zone = next(
        (moment, name)
        for name in ("America/Chicago", "Europe/London")
        if (moment := timezone.now().astimezone(ZoneInfo(name))).hour >= 1
    )
    earlier = now - timedelta(hours=1)
    form = {"time": earlier.strftime("%H:%M"), "timezone": zone, "enabled": "on",
            "mode": "same_moment"}  # fmt: skip
    html = client.post(SCHEDULE, form, follow=True).content.decode()
    assert "Today's daily broadcast has not begun" in html
    assert schedule.current().next_run.date() == now.date() + timedelta(days=1)

    # Once today's has begun, nothing to warn about, and a run that day would do nothing.
    draft(
        idempotency_key=f"daily:{now.date()}", date=now.date(), state=BroadcastState.SENDING,
        started_at=timezone.now(),
    )  # fmt: skip
    html = client.get(SCHEDULE).content.decode()
    assert "has not begun" not in html


def test_only_a_draft_is_deleted_and_only_from_its_page(admin_client):
    sent = draft(state=BroadcastState.DONE)
    listing = admin_client.get(reverse("admin:messaging_broadcast_changelist"))
    assert "delete_selected" not in listing.content.decode()
    delete = reverse("admin:messaging_broadcast_delete", args=[sent.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    unsent = draft(idempotency_key="adhoc:z")
    admin_client.post(
        reverse("admin:messaging_broadcast_delete", args=[unsent.pk]), {"post": "yes"}
    )
    assert list(Broadcast.objects.all()) == [sent]


def test_the_finish_and_a_run_into_quiet_hours_are_shown_before_the_send(client, settings):
    """At the send rate (SMS_SEND_RATE, or the sender's MPS when lower) the confirmation
    and the Daily schedule show when the send ends, and warn when the recipients' quiet
    hours begin before it does (what is not sent by then waits for the morning)."""
    chicago = timezone.now().astimezone(ZoneInfo("America/Chicago"))
    quiet_from = chicago + timedelta(minutes=20)
    settings.QUIET_HOURS = f"{quiet_from:%H:%M}-{quiet_from + timedelta(hours=8):%H:%M}"
    settings.SMS_SEND_RATE = 0.001  # three recipients: 50 minutes
    settings.DAILY_FALLBACK_TEXT = "A word for today"
    opted_in(3)  # 312 numbers: America/Chicago
    client.force_login(staff("ops", *OPERATOR_PERMISSIONS, *DEVOPS))

    html = unescape(client.post(preview(draft()), {"send": "1"}).content.decode())
    assert "about 50 minutes at 0" in html
    warning = "3 recipients' quiet hours ("
    assert 'id="confirm-into-quiet"' in html and warning in html

    schedule.ensure_daily_schedule()
    form = {"time": f"{chicago + timedelta(minutes=5):%H:%M}", "timezone": "America/Chicago",
            "enabled": "on", "mode": "same_moment"}  # fmt: skip
    assert client.post(SCHEDULE, form).url == SCHEDULE
    html = unescape(client.get(SCHEDULE).content.decode())
    assert 'id="next-finish"' in html and "about 50 minutes" in html
    assert 'id="next-into-quiet"' in html and warning in html

    settings.SMS_SEND_RATE = 1000  # over in a moment: nothing to warn about
    html = unescape(client.get(SCHEDULE).content.decode())
    assert 'id="next-finish"' in html and 'id="next-into-quiet"' not in html
    html = unescape(
        client.post(preview(draft(idempotency_key="adhoc:y")), {"send": "1"}).content.decode()
    )
    assert 'id="confirm-finish"' in html and 'id="confirm-into-quiet"' not in html
