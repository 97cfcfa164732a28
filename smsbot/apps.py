from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class SmsbotConfig(AppConfig):
    default = True
    name = "smsbot"
    verbose_name = "SMS bot core"

    def ready(self) -> None:
        from django.contrib.admin.models import LogEntry
        from django.db.backends.signals import connection_created
        from django.db.models.signals import pre_delete, pre_save

        from smsbot import audit, checks, stored_times  # noqa: F401 - checks registers checks
        from smsbot.private_files import secure_local_files

        # Every process starts here before it opens the database or the broker's folder.
        secure_local_files()

        pre_save.connect(audit.refuse_update, sender=LogEntry, dispatch_uid="audit-append-only")
        pre_delete.connect(audit.refuse_delete, sender=LogEntry, dispatch_uid="audit-append-only")
        connection_created.connect(
            stored_times.read_out_of_range, dispatch_uid="read-out-of-range-times"
        )


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the portal's own site as admin.site."""

    default = False
    default_site = "smsbot.admin_site.PortalAdminSite"
