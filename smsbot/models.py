import simple_history
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db import models
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from smsbot.history import ChangesOnlyHistory


class OutboxTask(models.Model):
    """A Celery task written in the same transaction as the change that needs it.

    It is published after commit and deleted once the broker has it; if the
    broker was down, drain_outbox publishes it later, so no follow-up is lost.
    """

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    queue = models.CharField(max_length=50)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"


class AuditEntry(LogEntry):
    """The operator audit trail (smsbot.audit): Django's admin log under its own name."""

    class Meta:
        proxy = True
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log entries"


class EnrolmentLink(models.Model):
    """A one-time link a superuser issued for one user's first authenticator (smsbot.enrolment).

    Only the token's SHA-256 is stored: the link itself is shown once, to its issuer.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolment_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    # None: issued from a shell (manage.py enrolment_link).
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"enrolment link #{self.pk} for {self.user}"


# The daily schedule is a django-celery-beat periodic task and its crontab; their
# versions live here, as the portal's own record of how the schedule changed.
simple_history.register(
    PeriodicTask,
    app="smsbot",
    records_class=ChangesOnlyHistory,
    excluded_fields=["last_run_at", "total_run_count", "date_changed"],
)
simple_history.register(CrontabSchedule, app="smsbot", records_class=ChangesOnlyHistory)


class ImportPreviewState(models.TextChoices):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Checking rows"
    DONE = "done", "Checked"
    FAILED = "failed", "Failed"


class ImportPreview(models.Model):
    """A large import file being checked by a worker (smsbot.imports.previews).

    The file is copied here so that the worker needs no disk shared with the web
    process; the copy is emptied once the check is done. The confirmation still
    goes through the token and the private directory, like any preview.
    """

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # The admin's model, "app_label.model_name".
    admin = models.CharField(max_length=200)
    stored_name = models.CharField(max_length=32)
    original_name = models.CharField(max_length=255)
    format = models.PositiveSmallIntegerField(default=0)
    resource = models.PositiveSmallIntegerField(default=0)
    data = models.BinaryField(default=b"")
    state = models.CharField(
        max_length=8, choices=ImportPreviewState.choices, default=ImportPreviewState.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    # What the preview found: totals, problems and notes (smsbot.imports.previews.summary).
    summary = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"import preview #{self.pk}"
