from django.apps import AppConfig


class SubscribersConfig(AppConfig):
    name = "subscribers"
    verbose_name = "Subscribers and consent"

    def ready(self) -> None:
        # Issue 6: DynamoDB mirror receivers.
        from subscribers import signals

        signals.connect()
