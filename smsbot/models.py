from django.db import models


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
