from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        # Issue 3: double opt-in confirmations listen to consent changes.
        from . import confirmations  # noqa: F401
