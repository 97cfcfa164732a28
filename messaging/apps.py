from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        # Issue 4: tasks outside messaging/tasks.py, registered for the workers.
        from . import sns_subscriptions  # noqa: F401
