from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        # Modules whose tasks or signal receivers must be loaded in every process:
        # SNS subscription confirmation (issue 4), double opt-in confirmations
        # (issue 3), the retention task and the metrics flush (issue 5).
        from messaging import (  # noqa: F401
            confirmations,
            metrics,
            sns_subscriptions,
            tasks_retention,
        )
        from messaging.schedule import ensure_daily_schedule

        # Issue 5: the daily-broadcast periodic task exists after every migrate.
        post_migrate.connect(
            ensure_daily_schedule, sender=self, dispatch_uid="messaging-daily-schedule"
        )
