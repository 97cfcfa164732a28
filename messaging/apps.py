from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        # Loaded in every process: the tasks and their periodic schedule (beat reads
        # it at start), the receivers that send double opt-in confirmations (SMS and
        # e-mail), the one that forgets an erased number's messages, seed_demo's
        # messages and the providers' deploy checks.
        from messaging import demo, retention, tasks  # noqa: F401
        from messaging.broadcasts.schedule import ensure_daily_schedule
        from messaging.confirmations import by_email, by_phone  # noqa: F401
        from messaging.providers import deploy_checks  # noqa: F401

        # The daily-broadcast periodic task exists after every migrate.
        post_migrate.connect(
            ensure_daily_schedule, sender=self, dispatch_uid="messaging-daily-schedule"
        )
