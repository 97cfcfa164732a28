from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class SmsbotConfig(AppConfig):
    default = True
    name = "smsbot"
    verbose_name = "SMS bot core"

    def ready(self) -> None:
        from smsbot import checks  # noqa: F401 - registers system checks


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the portal's own site as admin.site."""

    default = False
    default_site = "smsbot.admin_site.PortalAdminSite"
