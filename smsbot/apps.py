from django.apps import AppConfig


class SmsbotConfig(AppConfig):
    name = "smsbot"
    verbose_name = "SMS bot core"

    def ready(self) -> None:
        from smsbot import checks  # noqa: F401 - registers system checks
