"""Whoever may read consent events may read a subscriber's delivery-window history."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ["Operations Manager", "DevOps"]


def grant(apps, schema_editor):
    # Permissions are made after migrate (post_migrate): the new model's, here first.
    app_config = apps.get_app_config("subscribers")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    view = apps.get_model("auth", "Permission").objects.get(
        content_type__app_label="subscribers", codename="view_subscriberevent"
    )
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.add(view)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(
            *Permission.objects.filter(codename="view_subscriberevent")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("subscribers", "0008_fill_subscriber_timezones"),
        ("subscribers", "0003_i3_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
