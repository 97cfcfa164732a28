from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        # Issue 5: registers the retention task and the metrics flush signals.
        from . import metrics, tasks_retention  # noqa: F401
