"""Who composes broadcasts and who sees or changes the daily schedule.

Operations Managers compose, test, schedule, send, pause, resume and cancel
broadcasts (add and change), and see the Daily schedule screen; DevOps also
change the schedule. Nobody but a superuser deletes a broadcast.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Operations Manager": ["add_broadcast", "change_broadcast", "view_dailyscheduletask"],
    # DevOps already add and change broadcasts (subscribers 0003_i3_groups).
    "DevOps": ["view_dailyscheduletask", "change_dailyscheduletask"],
}


def permissions(apps, codenames):
    # Permissions are made by a post_migrate handler, which has not run yet on a
    # fresh database (the proxy model's are new here).
    messaging = apps.get_app_config("messaging")
    messaging.models_module = True
    create_permissions(messaging, apps=apps, verbosity=0)
    messaging.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label="messaging", codename__in=codenames)


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions(apps, codenames))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(*permissions(apps, codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0003_broadcast_schedule_and_tests"),
        ("subscribers", "0003_i3_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
