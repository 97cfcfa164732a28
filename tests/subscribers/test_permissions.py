"""The staff groups created by the data migration, through the admin's views."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from subscribers.models import ConsentEvent
from tests.subscribers.conftest import run_action

CHANGELIST = reverse("admin:subscribers_subscriber_changelist")


@pytest.mark.django_db
def test_groups_exist_with_their_permissions():
    ops = set(
        Group.objects.get(name="Operations Manager").permissions.values_list("codename", flat=True)
    )
    devops = set(Group.objects.get(name="DevOps").permissions.values_list("codename", flat=True))
    assert {
        "view_subscriber",
        "change_subscriber",
        "view_consentevent",
        "view_message",
        "view_broadcast",
    } <= ops
    assert not {p for p in ops if p.startswith("delete_")}
    assert not {p for p in ops if p.endswith("_user") or p.endswith("_group")}
    assert ops < devops
    assert {
        "add_periodictask",
        "change_crontabschedule",
        "change_dailycontent",
        "add_broadcast",
    } <= devops
    assert not {p for p in devops if p.startswith("delete_")}


@pytest.mark.django_db
def test_operations_manager_cannot_delete_subscribers(ops_client, subscribe):
    sub = subscribe("+13125550123")
    page = ops_client.get(CHANGELIST)
    assert page.status_code == 200
    actions = [name for name, _ in page.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions
    assert {"opt_out", "opt_back_in", "export_csv", "erase_personal_data"} <= set(actions)
    assert (
        ops_client.get(reverse("admin:subscribers_subscriber_delete", args=[sub.pk])).status_code
        == 403
    )
    assert (
        ops_client.post(
            reverse("admin:subscribers_subscriber_delete", args=[sub.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    run_action(ops_client, "delete_selected", [sub], post="yes")
    assert sub.__class__.objects.filter(pk=sub.pk).exists()


@pytest.mark.django_db
def test_operations_manager_cannot_edit_consent_events_or_users(ops_client, subscribe):
    subscribe("+13125550123")
    event = ConsentEvent.objects.get()
    url = reverse("admin:subscribers_consentevent_change", args=[event.pk])
    assert ops_client.get(url).status_code == 200  # may look
    assert ops_client.post(url, {"source": "admin", "to_status": "opted_out"}).status_code == 403
    assert (
        ops_client.post(
            reverse("admin:subscribers_consentevent_delete", args=[event.pk])
        ).status_code
        == 403
    )
    event.refresh_from_db()
    assert (event.source, event.to_status) == ("sms_keyword", "opted_in")
    assert ops_client.get(reverse("admin:auth_user_changelist")).status_code == 403


@pytest.mark.django_db
def test_operations_manager_runs_consent_actions(ops_client, subscribe):
    sub = subscribe("+13125550123")
    response = run_action(ops_client, "opt_out", [sub], reason="complaint")
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.consent_status == "opted_out"
    assert sub.consent_events.first().evidence["admin_user"] == "operations_manager"


@pytest.mark.django_db
def test_devops_edits_schedules_but_operations_manager_does_not(ops_client, devops_client):
    add_task = reverse("admin:django_celery_beat_periodictask_add")
    add_cron = reverse("admin:django_celery_beat_crontabschedule_add")
    assert devops_client.get(add_task).status_code == 200
    assert devops_client.get(add_cron).status_code == 200
    assert ops_client.get(add_task).status_code == 403
    assert devops_client.get(reverse("admin:messaging_dailycontent_add")).status_code == 200
    assert ops_client.get(reverse("admin:messaging_dailycontent_add")).status_code == 403
