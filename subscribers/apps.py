from django.apps import AppConfig


class SubscribersConfig(AppConfig):
    name = "subscribers"
    verbose_name = "Subscribers and consent"

    def ready(self) -> None:
        from subscribers.mirror import signals

        signals.connect()
