from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from .schedule import ensure_daily_schedule

        # Issue 5: the daily-broadcast periodic task exists after every migrate.
        post_migrate.connect(
            ensure_daily_schedule, sender=self, dispatch_uid="messaging-daily-schedule"
        )
