from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        # Issue 4: tasks outside messaging/tasks.py, registered for the workers.
        # Issue 3: double opt-in confirmations listen to consent changes.
        from . import (
            confirmations,  # noqa: F401
            sns_subscriptions,  # noqa: F401
        )
