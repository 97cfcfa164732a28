from axes import apps as axes_apps
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.contrib.auth import apps as auth_apps
from django_celery_beat import apps as beat_apps
from django_otp.plugins.otp_static import apps as static_apps
from django_otp.plugins.otp_totp import apps as totp_apps


class SmsbotConfig(AppConfig):
    default = True
    name = "smsbot"
    # The only section of its own on the admin's home page: the audit trail.
    verbose_name = "Audit log"

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


# Third-party apps under the names operators use for them, on the admin's home page,
# in breadcrumbs and section titles alike (settings.INSTALLED_APPS names these
# classes). Their own names are "Authentication and Authorization", "Periodic Tasks",
# "Axes", "otp_totp", "otp_static".


class UsersAndRolesConfig(auth_apps.AuthConfig):
    default = False
    verbose_name = "Users and roles"


class SchedulesConfig(beat_apps.BeatConfig):
    default = False
    verbose_name = "Schedules"


class LoginLockoutsConfig(axes_apps.AppConfig):
    default = False
    verbose_name = "Login lockouts"


class TwoFactorDevicesConfig(totp_apps.DefaultConfig):
    default = False
    verbose_name = "Two-factor devices"


class RecoveryCodesConfig(static_apps.DefaultConfig):
    default = False
    verbose_name = "Two-factor recovery codes"
