"""Both staff groups may read the operator audit trail (Admin › Audit log)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ["Operations Manager", "DevOps"]


def permission(apps):
    # Permissions are made by a post_migrate handler, too late on a fresh database.
    app_config = apps.get_app_config("smsbot")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    return apps.get_model("auth", "Permission").objects.get(
        content_type__app_label="smsbot", codename="view_auditentry"
    )


def grant(apps, schema_editor):
    view_audit_log = permission(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.add(view_audit_log)


def revoke(apps, schema_editor):
    view_audit_log = permission(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(view_audit_log)


class Migration(migrations.Migration):
    dependencies = [
        ("subscribers", "0004_i3_postgresql_trigger_and_trigram_index"),
        ("smsbot", "0002_audit_log_and_schedule_history"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
