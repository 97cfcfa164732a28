from django.apps import AppConfig


class SubscribersConfig(AppConfig):
    name = "subscribers"
    verbose_name = "Subscribers"

    def ready(self) -> None:
        from subscribers import localtime
        from subscribers.mirror import signals

        signals.connect()
        # A malformed QUIET_HOURS stops start-up with its reason, not the first send.
        localtime.quiet_hours()
