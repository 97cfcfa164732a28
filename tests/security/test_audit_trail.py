"""Every state-changing admin action leaves one audit entry: who, what, before → after.

Each test drives the admin the way an operator does (its own URLs, forms and
actions) and reads the entry back from the audit log (Django's LogEntry).
"""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from messaging.models import Broadcast, BroadcastState, DailyContent, Message
from messaging.outbound import config_errors
from smsbot import audit, timezones
from subscribers import consent
from subscribers.models import Conversation, Subscriber
from tests.ops.factories import message
from tests.security.conftest import DEVOPS, OPS, SUPER, role_user

pytestmark = pytest.mark.django_db


def entries(obj=None, model=None) -> list[LogEntry]:
    content_type = ContentType.objects.get_for_model(model or type(obj))
    found = LogEntry.objects.filter(content_type=content_type).order_by("id")
    if obj is not None:
        found = found.filter(object_id=str(obj.pk))
    return list(found)


def logged_in(role: str) -> tuple[Client, User]:
    user = role_user(role)
    client = Client()
    client.force_login(user)
    return client, user


def act(client: Client, model: type, action: str, objects: list, **form: str):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    data = {"action": action, "_selected_action": [o.pk for o in objects], **form}
    return client.post(url, data)


def inline_management(page) -> dict[str, object]:
    """The change page's inline formsets, posted back unchanged."""
    data: dict[str, object] = {}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({f"{management.prefix}-{k}": v for k, v in management.initial.items()})
        for form in formset.forms:
            data[f"{form.prefix}-id"] = form.instance.pk
            data[f"{form.prefix}-{formset.fk.name}"] = formset.instance.pk
    return data


def broadcast(state: str) -> Broadcast:
    return Broadcast.objects.create(
        idempotency_key=f"adhoc:{state}", name=f"B {state}", text="Hi", state=state,
        fanout_done=True,
    )  # fmt: skip


def test_broadcast_actions_record_who_and_the_state_change():
    client, devops = logged_in(DEVOPS)
    running = broadcast(BroadcastState.SENDING)
    act(client, Broadcast, "pause_selected", [running])
    act(client, Broadcast, "resume_selected", [running])
    act(client, Broadcast, "cancel_selected", [running])
    messages = [e.get_change_message() for e in entries(running)]
    assert messages == [
        "Paused: state: sending → paused",
        "Resumed: state: paused → sending",
        "Cancelled: state: sending → cancelled",
    ]
    assert {e.user for e in entries(running)} == {devops}

    done = broadcast(BroadcastState.DONE)
    (sub,) = [consent.change("+13125550111", "opted_in", "admin", {"t": 1}).subscriber]
    message(broadcast=done, kind="broadcast", subscriber=sub, phone=sub.phone, status="failed")
    act(client, Broadcast, "retry_failed_selected", [done])
    assert entries(done)[-1].get_change_message() == "Retried failed messages (1 queued again)"

    # An action that changes nothing (a cancelled broadcast cannot pause) records nothing.
    cancelled = broadcast(BroadcastState.CANCELLED)
    act(client, Broadcast, "pause_selected", [cancelled])
    assert entries(cancelled) == []


def test_sending_a_draft_and_dismissing_an_error_are_recorded():
    client, devops = logged_in(DEVOPS)
    draft = broadcast(BroadcastState.DRAFT)
    client.post(reverse("admin:messaging_broadcast_preview", args=[draft.pk]), {"send": "1"})
    (entry,) = entries(draft)
    assert entry.get_change_message() == "Started sending: state: draft → sending"

    config_errors.remember("twilio", "20003", "bad credentials")
    client.post(reverse("admin:messaging_broadcast_dismiss_config"))
    last = entries(model=Broadcast)[-1]
    assert last.object_id is None and last.user == devops
    assert last.get_change_message() == "Dismissed a provider configuration error (twilio 20003)"


def test_message_retries_are_recorded_one_by_one_and_in_bulk():
    client, root = logged_in(SUPER)
    one = message(status="failed", error_code="30003", phone="+13125550121")
    client.post(reverse("admin:messaging_message_retry", args=[one.pk]))
    assert entries(one)[-1].get_change_message() == "Retried: status: failed → queued"

    two = message(status="failed", error_code="30003", phone="+13125550122")
    act(client, Message, "retry_selected", [two], confirmed="1")
    assert entries(two)[-1].get_change_message() == "Retried: status: failed → queued"
    assert entries(two)[-1].user == root


def test_consent_actions_erasure_and_resync_are_recorded(settings):
    settings.DYNAMODB_SYNC_ENABLED = True
    client, ops = logged_in(OPS)
    sub = consent.change("+13125550123", "opted_in", "web_form", {"form": "t"}).subscriber
    act(client, Subscriber, "opt_out", [sub], apply="1", reason="asked by phone")
    act(client, Subscriber, "opt_back_in", [sub], apply="1", evidence="signed form")
    act(client, Subscriber, "resync_to_dynamodb", [sub])
    act(client, Subscriber, "erase_personal_data", [sub], apply="1",
        request_reference="ticket 77", confirm="on")  # fmt: skip
    assert [e.get_change_message() for e in entries(sub)] == [
        "Opted out: consent_status: opted_in → opted_out (asked by phone)",
        "Opted back in: consent_status: opted_out → opted_in (signed form)",
        "Queued a re-sync to DynamoDB",
        "Erased personal data (ticket 77)",
    ]
    assert {e.user for e in entries(sub)} == {ops}
    # The log names the subscriber without its number.
    assert not any("5550123" in e.object_repr for e in entries(sub))

    conversation = Conversation.objects.create(phone_number="+13125550124")
    act(client, Conversation, "resync_to_dynamodb", [conversation])
    assert entries(conversation)[-1].get_change_message() == "Queued a re-sync to DynamoDB"


def test_an_admin_edit_records_values_before_and_after_and_keeps_a_version():
    client, devops = logged_in(DEVOPS)
    content = DailyContent.objects.create(date=date(2027, 1, 5), text="Old text")
    url = reverse("admin:messaging_dailycontent_change", args=[content.pk])
    form = {"date": "2027-01-05", "text": "New text", "whatsapp_content_sid": "",
            "whatsapp_content_variables": "{}"}  # fmt: skip
    assert client.post(url, form).status_code == 302
    assert entries(content)[-1].get_change_message() == "Changed: Text: Old text → New text"

    versions = list(content.history.order_by("history_date"))
    assert [v.text for v in versions] == ["Old text", "New text"]
    assert versions[-1].history_user == devops
    # Saving again with nothing changed adds no version.
    client.post(url, form)
    assert content.history.count() == 2
    page = client.get(reverse("admin:messaging_dailycontent_history", args=[content.pk]))
    assert "Old text → New text" in page.content.decode()
    assert "This object in the audit log" in page.content.decode()


def test_a_daily_content_import_is_recorded_per_row_and_as_a_whole():
    client, devops = logged_in(DEVOPS)
    csv = "date,text,whatsapp_content_sid,whatsapp_content_variables\n2027-02-01,Imported,,\n"
    upload = SimpleUploadedFile("days.csv", csv.encode(), "text/csv")
    url = reverse("admin:messaging_dailycontent_import")
    preview = client.post(url, {"resource": "0", "format": "0", "import_file": upload})
    confirm = preview.context["confirm_form"].initial
    client.post(reverse("admin:messaging_dailycontent_process_import"), confirm)
    imported = DailyContent.objects.get(date=date(2027, 2, 1))
    assert entries(imported)[0].action_flag == ADDITION
    summary = entries(model=DailyContent)[-1]
    assert summary.object_id is None and summary.user == devops
    assert summary.get_change_message() == "Imported (days.csv; 1 new)"
    assert imported.history.get().history_user == devops


def test_schedule_edits_and_task_actions_are_recorded_and_versioned():
    client, devops = logged_in(DEVOPS)
    task = PeriodicTask.objects.get(name="daily-broadcast")
    crontab = task.crontab
    url = reverse("admin:django_celery_beat_crontabschedule_change", args=[crontab.pk])
    form = {"minute": "30", "hour": "9", "day_of_week": "*", "day_of_month": "*",
            "month_of_year": "*", "timezone": "America/Chicago",
            **inline_management(client.get(url))}  # fmt: skip
    response = client.post(url, form)
    assert response.status_code == 302, response.context["errors"]
    message_text = entries(crontab)[-1].get_change_message()
    assert "Minute(s): 0 → 30" in message_text and "Hour(s): 10 → 9" in message_text
    assert crontab.history.first().history_user == devops

    act(client, PeriodicTask, "disable_tasks", [task])
    task.refresh_from_db()
    assert not task.enabled
    assert entries(task)[-1].get_change_message() == "Disabled: enabled: True → False"
    assert task.history.first().enabled is False
    versions = task.history.count()
    # Beat's own bookkeeping after a run adds no version.
    task.total_run_count += 1
    task.save()
    assert task.history.count() == versions


def test_user_and_group_changes_are_recorded_without_secrets():
    client, _ = logged_in(SUPER)
    user = User.objects.create_user("newcomer", password="first-password-0123", is_staff=True)
    User.objects.filter(pk=user.pk).update(date_joined="2026-01-01T00:00:00Z")
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = client.get(url)
    form = {
        key: value
        for key, value in page.context["adminform"].form.initial.items()
        if value is not None and key not in ("groups", "user_permissions", "password")
    }
    # The admin shows (and reads back) times in the operations timezone.
    joined = datetime(2026, 1, 1, tzinfo=UTC).astimezone(ZoneInfo(settings.OPS_TIMEZONE))
    form.update({"groups": [Group.objects.get(name="DevOps").pk], "is_staff": "on",
                 "is_active": "on", "last_login_0": "", "last_login_1": "",
                 "date_joined_0": f"{joined:%Y-%m-%d}", "date_joined_1": f"{joined:%H:%M:%S}",
                 "initial-date_joined_0": f"{joined:%Y-%m-%d}",
                 "initial-date_joined_1": f"{joined:%H:%M:%S}"})  # fmt: skip
    assert client.post(url, form).status_code == 302
    assert entries(user)[-1].get_change_message() == "Changed (Groups added: DevOps)"

    password_url = reverse("admin:auth_user_password_change", args=[user.pk])
    secret = "second-password-0123-xyz"
    response = client.post(
        password_url, {"password1": secret, "password2": secret, "usable_password": "true"}
    )
    assert response.status_code == 302
    last = entries(user)[-1].get_change_message()
    assert "(new secret)" in last and secret not in last

    group = Group.objects.create(name="Auditors")
    client.post(reverse("admin:auth_group_change", args=[group.pk]), {"name": "Reviewers"})
    assert entries(group)[-1].get_change_message() == "Changed: Name: Auditors → Reviewers"


def test_the_audit_log_is_append_only():
    user = role_user(OPS)
    sub = consent.change("+13125550123", "opted_in", "web_form", {"form": "t"}).subscriber
    (entry,) = audit.record(user, sub, "Looked")
    entry.change_message = "forged"
    with pytest.raises(audit.AppendOnlyError), transaction.atomic():
        entry.save()
    with pytest.raises(audit.AppendOnlyError), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).delete()
    # Nor with the user it belongs to: deactivate users who acted instead.
    with pytest.raises(audit.AppendOnlyError), transaction.atomic():
        user.delete()
    statements = ["UPDATE django_admin_log SET change_message = 'forged' WHERE id = %s"]
    if connection.vendor == "postgresql":
        statements.append("DELETE FROM django_admin_log WHERE id = %s")
    for sql in statements:
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    entry = LogEntry.objects.get(pk=entry.pk)
    assert entry.get_change_message() == "Looked" and User.objects.filter(pk=user.pk).exists()
    # Appending stays possible.
    audit.record(user, sub, "Looked again")
    assert LogEntry.objects.count() == 2


def test_operators_filter_the_audit_log_by_user_type_and_date_and_reach_it_from_an_object():
    client, _ = logged_in(OPS)
    first, other = role_user(DEVOPS), role_user(SUPER)
    sub = consent.change("+13125550123", "opted_in", "web_form", {"form": "t"}).subscriber
    content = DailyContent.objects.create(date=date(2027, 1, 1), text="Hi")
    audit.record(first, sub, "Opted out")
    audit.record(other, content, "Edited")
    log = reverse("admin:smsbot_auditentry_changelist")

    def listed(query: dict) -> list[str]:
        page = client.get(log, query)
        assert page.status_code == 200
        return [e.get_change_message() for e in page.context["cl"].result_list]

    assert listed({}) == ["Edited", "Opted out"]  # newest first
    # The count under the list says what it counts, in the plural.
    footer = client.get(log).content.decode()
    assert re.search(r'class="paginator">\s*2 audit log entries\s*<', footer), footer[-3000:]
    assert len(listed({"user__id__exact": first.pk})) == 1
    one = client.get(log, {"user__id__exact": first.pk}).content.decode()
    assert re.search(r'class="paginator">\s*1 audit log entry\s*<', one)
    assert listed({"user__id__exact": first.pk}) == ["Opted out"]
    content_type = ContentType.objects.get_for_model(DailyContent)
    assert listed({"content_type__id__exact": content_type.pk}) == ["Edited"]
    # The object types are named as their screens name them, not by app label.
    specs = client.get(log).context["cl"].filter_specs
    kinds = next(spec for spec in specs if spec.title == "object type")
    assert [label for _, label in kinds.lookup_choices] == ["Daily content", "Subscriber"]
    assert not kinds.include_empty_choice  # no "-" choice that lists nothing
    # A day is the operations timezone's (from 18:00 in Chicago, UTC's is the next one).
    today = timezone.localdate(LogEntry.objects.first().action_time, timezones.ops_zone())
    assert len(listed({"action_time__date": today.isoformat()})) == 2
    assert listed({"action_time__date": (today + timedelta(days=1)).isoformat()}) == []
    assert (
        listed({"action_time__gte": "2000-01-01 00:00Z", "action_time__lt": "2000-01-02 00:00Z"})
        == []
    )

    history = client.get(reverse("admin:subscribers_subscriber_history", args=[sub.pk]))
    assert "Opted out" in history.content.decode()
    link = history.context["audit_log_url"]
    assert listed(dict(pair.split("=") for pair in link.split("?")[1].split("&"))) == ["Opted out"]
    # Nobody edits or deletes an entry, not even a superuser.
    root = Client()
    root.force_login(other)
    entry = LogEntry.objects.last()
    change = reverse("admin:smsbot_auditentry_change", args=[entry.pk])
    assert root.post(change, {"change_message": "forged"}).status_code == 403
    delete = reverse("admin:smsbot_auditentry_delete", args=[entry.pk])
    assert root.post(delete, {"post": "yes"}).status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk, action_flag=CHANGE).exists()
    assert not LogEntry.objects.filter(action_flag=DELETION).exists()
