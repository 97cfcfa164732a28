"""Who may open every admin page and run every admin action: one table, checked over HTTP.

The pages and actions are found on the admin site itself (tests/security/doors.py),
so a new view or action shows up here by itself; the test fails until TABLE says
which roles may use it, and then fails if the view lets in anyone else.

Adding a view or an action? Add a row below, then make the view check the
permission it needs (raise PermissionDenied, or use has_*_permission), or give
the action permissions=[...]. The row says:
- for a page, (roles that may GET it, roles that may POST to it): any other role
  must be refused (403, 405, or sent to the login page), GET and POST alike;
- for an action, the roles that are offered it: any other role that posts it
  must see it refused and nothing done.
"""

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import models
from django.test import Client
from django.urls import reverse

from tests.security import doors
from tests.security.conftest import DEVOPS, OPS, ROLES, SUPER
from tests.security.samples import make_samples

ALL = frozenset(ROLES)
VIEWERS = frozenset({SUPER, DEVOPS, OPS})  # the two groups can read the operations data
DEV = frozenset({SUPER, DEVOPS})
SU = frozenset({SUPER})
NOBODY = frozenset()

# What a form sends to do something (send, confirm a deletion, apply an action's
# form, confirm a retry), so that a refused POST is refused for real, not just
# shown its page again.
POST_DATA = {"send": "1", "post": "yes", "apply": "1", "confirmed": "1"}


def model_pages(
    prefix: str,
    view: frozenset,
    add: frozenset = NOBODY,
    change: frozenset = NOBODY,
    delete: frozenset = NOBODY,
    versions: bool = False,
) -> dict[str, tuple[frozenset, frozenset]]:
    """A ModelAdmin's standard pages; the change page shows read-only to viewers."""
    rows = {
        f"{prefix}_changelist": (view, view),
        f"{prefix}_add": (add, add),
        f"{prefix}_change": (view | change, change),
        f"{prefix}_delete": (delete, delete),
        f"{prefix}_history": (view | change, view | change),
    }
    if versions:
        # A version is shown, never restored (smsbot.admin_base.VersionedAdmin).
        rows[f"{prefix}_simple_history"] = (view | change, NOBODY)
    return rows


TABLE: dict[str, Any] = {
    # --- the site's own pages
    "index": (ALL, ALL),
    "login": (ALL, ALL),
    "logout": (NOBODY, ALL),  # POST only
    "password_change": (ALL, ALL),
    "password_change_done": (ALL, ALL),
    "jsi18n": (ALL, ALL),
    "two_factor": (ALL, ALL),
    # Only a session an enrolment link opened sees it (it carries the secret).
    "two_factor_qrcode": (NOBODY, NOBODY),
    # An enrolment link's page: the link and its user's password are the key.
    "enrol": (ALL, ALL),
    # Needs its query; each admin's autocomplete checks the model's view permission.
    "autocomplete": (NOBODY, NOBODY),
    # No model of the portal has a public page.
    "view_on_site": (NOBODY, NOBODY),
    "app_list:auth": (SU, SU),
    "app_list:axes": (SU, SU),
    "app_list:otp_totp": (SU, SU),
    "app_list:django_celery_beat": (DEV, DEV),
    "app_list:smsbot": (VIEWERS, VIEWERS),
    "app_list:subscribers": (VIEWERS, VIEWERS),
    "app_list:messaging": (VIEWERS, VIEWERS),
    # --- users, groups, two-factor devices, login lockouts: superusers only
    **model_pages("auth_user", SU, add=SU, change=SU, delete=SU),
    "auth_user_password_change": (SU, SU),
    # Issuing an enrolment link and resetting two-factor login: superusers, whatever
    # permissions another user is given.
    "auth_user_enrolment_link": (SU, SU),
    "auth_user_two_factor_reset": (SU, SU),
    **model_pages("auth_group", SU, add=SU, change=SU, delete=SU),
    **model_pages("otp_totp_totpdevice", SU, add=SU, change=SU, delete=SU),
    # The device's secret and QR code are never shown (OTP_ADMIN_HIDE_SENSITIVE_DATA).
    "otp_totp_totpdevice_config": (NOBODY, NOBODY),
    "otp_totp_totpdevice_qrcode": (NOBODY, NOBODY),
    # Unlocking someone is deleting their access attempt.
    **model_pages("axes_accessattempt", SU, change=SU, delete=SU),
    **model_pages("axes_accesslog", SU, change=SU, delete=SU),
    **model_pages("axes_accessfailurelog", SU, change=SU, delete=SU),
    # --- the audit trail: read by both groups, changed by nobody
    **model_pages("smsbot_auditentry", VIEWERS),
    # --- schedules: DevOps adds and changes, only a superuser deletes
    **model_pages(
        "django_celery_beat_periodictask", DEV, add=DEV, change=DEV, delete=SU, versions=True
    ),
    **model_pages(
        "django_celery_beat_crontabschedule", DEV, add=DEV, change=DEV, delete=SU, versions=True
    ),
    **model_pages("django_celery_beat_intervalschedule", SU, add=SU, change=SU, delete=SU),
    **model_pages("django_celery_beat_solarschedule", SU, add=SU, change=SU, delete=SU),
    **model_pages("django_celery_beat_clockedschedule", SU, add=SU, change=SU, delete=SU),
    # --- subscribers: both groups read; consent changes go through actions and imports
    **model_pages("subscribers_subscriber", VIEWERS, change=VIEWERS),
    "subscribers_subscriber_import": (VIEWERS, VIEWERS),
    "subscribers_subscriber_process_import": (NOBODY, VIEWERS),  # POST only
    "subscribers_subscriber_import_template": (VIEWERS, VIEWERS),
    # A large import's preview is its uploader's alone (the sample's is another user's).
    "subscribers_subscriber_import_preview": (NOBODY, NOBODY),
    "subscribers_subscriber_import_preview_status": (NOBODY, NOBODY),
    "subscribers_subscriber_consent": (NOBODY, VIEWERS),  # POST only: the page's buttons
    "subscribers_subscriber_pause": (NOBODY, VIEWERS),  # POST only: the page's buttons
    "subscribers_subscriber_email": (NOBODY, VIEWERS),  # POST only: add an address
    "subscribers_subscriber_export": (VIEWERS, VIEWERS),
    # An export file is its requester's (the sample's is another user's) or a superuser's.
    "subscribers_subscriber_export_job": (SU, SU),
    "subscribers_subscriber_export_status": (SU, SU),
    "subscribers_subscriber_export_download": (SU, SU),
    **model_pages("subscribers_consentevent", VIEWERS),
    **model_pages("subscribers_conversation", VIEWERS),
    # --- broadcasts: both groups compose, test, send, schedule, pause, resume, cancel
    # and retry them (operations staff run the sending); only a superuser deletes
    **model_pages("messaging_broadcast", VIEWERS, add=VIEWERS, change=VIEWERS, delete=SU),
    "messaging_broadcast_preview": (VIEWERS, VIEWERS),  # POST sends, schedules or tests
    "messaging_broadcast_act": (NOBODY, VIEWERS),  # POST only: the page's buttons
    "messaging_broadcast_progress": (VIEWERS, VIEWERS),
    "messaging_broadcast_dismiss_config": (NOBODY, VIEWERS),  # POST only
    # --- the daily schedule: both groups read it, DevOps changes it
    "messaging_dailyscheduletask_changelist": (VIEWERS, DEV),
    "messaging_dailyscheduletask_change": (VIEWERS, VIEWERS),  # a redirect to the screen
    "messaging_dailyscheduletask_history": (VIEWERS, VIEWERS),
    # --- daily content: read by both groups, changed by DevOps
    **model_pages("messaging_dailycontent", VIEWERS, add=DEV, change=DEV, delete=SU, versions=True),
    "messaging_dailycontent_import": (DEV, DEV),
    "messaging_dailycontent_process_import": (NOBODY, DEV),  # POST only
    "messaging_dailycontent_import_preview": (NOBODY, NOBODY),
    "messaging_dailycontent_import_preview_status": (NOBODY, NOBODY),
    "messaging_dailycontent_export": (VIEWERS, VIEWERS),
    # --- prices per country: read by both groups, changed by DevOps
    **model_pages("messaging_countryprice", VIEWERS, add=DEV, change=DEV, delete=SU),
    # --- the message log: read-only records; retrying needs the change permission
    **model_pages("messaging_message", VIEWERS),
    "messaging_message_costs": (VIEWERS, VIEWERS),
    "messaging_dailycontent_report": (VIEWERS, VIEWERS),
    # A number's consent proof: the roles that read consent events.
    "messaging_message_consent_proof": (VIEWERS, VIEWERS),
    "messaging_message_retry": (SU, SU),
    **model_pages("messaging_deliveryevent", VIEWERS),
    **model_pages("messaging_providercall", VIEWERS),
    # --- actions: the roles offered each one
    "action:auth.User:delete_selected": SU,
    "action:auth.Group:delete_selected": SU,
    "action:otp_totp.TOTPDevice:delete_selected": SU,
    "action:axes.AccessAttempt:delete_selected": SU,
    "action:axes.AccessAttempt:cleanup_expired_attempts": SU,
    "action:axes.AccessLog:delete_selected": SU,
    "action:axes.AccessFailureLog:delete_selected": SU,
    "action:smsbot.AuditEntry:delete_selected": NOBODY,
    "action:django_celery_beat.PeriodicTask:delete_selected": SU,
    "action:django_celery_beat.PeriodicTask:enable_tasks": DEV,
    "action:django_celery_beat.PeriodicTask:disable_tasks": DEV,
    "action:django_celery_beat.PeriodicTask:toggle_tasks": DEV,
    "action:django_celery_beat.PeriodicTask:run_tasks": DEV,
    "action:django_celery_beat.CrontabSchedule:delete_selected": SU,
    "action:django_celery_beat.IntervalSchedule:delete_selected": SU,
    "action:django_celery_beat.SolarSchedule:delete_selected": SU,
    "action:django_celery_beat.ClockedSchedule:delete_selected": SU,
    "action:subscribers.Subscriber:delete_selected": NOBODY,
    "action:subscribers.Subscriber:opt_out": VIEWERS,
    "action:subscribers.Subscriber:opt_back_in": VIEWERS,
    "action:subscribers.Subscriber:pause_until": VIEWERS,
    "action:subscribers.Subscriber:resume": VIEWERS,
    "action:subscribers.Subscriber:erase_personal_data": VIEWERS,
    "action:subscribers.Subscriber:export_csv": VIEWERS,
    "action:subscribers.Subscriber:resync_to_dynamodb": VIEWERS,
    "action:subscribers.Conversation:delete_selected": NOBODY,
    "action:subscribers.Conversation:resync_to_dynamodb": VIEWERS,
    "action:subscribers.ConsentEvent:delete_selected": NOBODY,
    "action:messaging.Broadcast:delete_selected": NOBODY,  # drafts are deleted one by one
    "action:messaging.Broadcast:pause_selected": VIEWERS,
    "action:messaging.Broadcast:resume_selected": VIEWERS,
    "action:messaging.Broadcast:cancel_selected": VIEWERS,
    "action:messaging.Broadcast:retry_failed_selected": VIEWERS,
    "action:messaging.DailyContent:delete_selected": SU,
    "action:messaging.CountryPrice:delete_selected": SU,
    "action:messaging.Message:delete_selected": NOBODY,
    "action:messaging.Message:retry_selected": SU,
    "action:messaging.DeliveryEvent:delete_selected": NOBODY,
    "action:messaging.ProviderCall:delete_selected": NOBODY,
}


def let_in(response: Any) -> bool:
    refused = response.status_code in (403, 404, 405) or "/login/" in response.get("Location", "")
    assert response.status_code < 500, f"{response.status_code} {response.content[:500]!r}"
    return not refused


def offered(client: Client, model: type[models.Model], name: str) -> bool:
    page = client.get(changelist(model))
    # A screen in place of a list (the daily schedule) has no action form.
    form = page.context.get("action_form") if page.status_code == 200 else None
    return form is not None and name in dict(form.fields["action"].choices)


def action_refused(response: Any) -> bool:
    """403; or Django's "No action selected." (the action is not the user's); or the
    list shown again with the POST ignored (a list that offers the user no action)."""
    if response.status_code == 403:
        return True
    notes = [str(m) for m in get_messages(response.wsgi_request)]
    if response.status_code == 302:
        return notes == ["No action selected."]
    return response.status_code == 200 and "cl" in (response.context or {}) and not notes


def changelist(model: type[models.Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


@pytest.fixture
def samples(db: None, settings: Any) -> dict[type[models.Model], models.Model]:
    # With the mirror on, every door it adds (the re-sync action) is open to check.
    settings.DYNAMODB_SYNC_ENABLED = True
    return make_samples()


def test_the_table_covers_every_admin_page_and_action(samples):
    found = {page.key for page in doors.pages(samples)} | {a.key for a in doors.actions()}
    missing = sorted(found - set(TABLE))
    assert not missing, (
        "These admin pages/actions have no row in TABLE (tests/security/test_role_table.py); "
        "add one saying which roles may use each, and make the view check that permission:\n"
        + "\n".join(missing)
    )
    assert not set(TABLE) - found, f"rows for pages that no longer exist: {set(TABLE) - found}"


def test_every_page_lets_in_exactly_the_roles_the_table_names(samples, role_clients):
    wrong = []
    for page in doors.pages(samples):
        get_roles, post_roles = TABLE[page.key]
        for role, client in role_clients.items():
            if let_in(client.get(page.path)) != (role in get_roles):
                wrong.append(f"GET {page.path} ({page.key}) as {role}: expected "
                             f"{'allowed' if role in get_roles else 'refused'}")  # fmt: skip
            # POST only where it must be refused: an allowed POST would act.
            if role not in post_roles and let_in(client.post(page.path, POST_DATA)):
                wrong.append(f"POST {page.path} ({page.key}) as {role}: expected refused")
    assert not wrong, "\n".join(wrong)


def test_every_action_is_offered_to_and_runs_for_exactly_the_roles_the_table_names(
    samples, role_clients
):
    wrong = []
    for action in doors.actions():
        allowed = TABLE[action.key]
        sample = samples[action.model]
        for role, client in role_clients.items():
            if offered(client, action.model, action.name) != (role in allowed):
                wrong.append(f"{action.key} as {role}: expected "
                             f"{'offered' if role in allowed else 'not offered'}")  # fmt: skip
            if role in allowed:
                continue
            data = {"action": action.name, "_selected_action": [sample.pk], "index": "0"}
            response = client.post(changelist(action.model), {**POST_DATA, **data})
            if not action_refused(response):
                wrong.append(f"{action.key} as {role}: ran although refused")
    assert not wrong, "\n".join(wrong)
    # And nothing a refused role posted changed a sample.
    for model, sample in samples.items():
        assert model._default_manager.filter(pk=sample.pk).exists(), model
