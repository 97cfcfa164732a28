from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        # Modules whose tasks or signal receivers must be loaded in every process:
        # SNS subscription confirmation (issue 4), double opt-in confirmations
        # (issue 3), the retention task and the metrics flush (issue 5).
        from . import (  # noqa: F401
            confirmations,
            metrics,
            sns_subscriptions,
            tasks_retention,
        )
