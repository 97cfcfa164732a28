"""Staff groups: "Operations Manager" and "DevOps".

Permissions are created by a post_migrate handler, which has not run yet when
this migration runs on a fresh database, so they are created here first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATIONS_MANAGER = {
    "subscribers": {
        "subscriber": ["view", "change"],  # change: the consent actions and erasure
        "conversation": ["view"],
        "consentevent": ["view"],
    },
    "messaging": {
        "message": ["view"],
        "deliveryevent": ["view"],
        "providercall": ["view"],
        "broadcast": ["view"],
        "dailycontent": ["view"],
    },
}
DEVOPS_EXTRA = {
    "django_celery_beat": {
        "periodictask": ["view", "add", "change"],
        "crontabschedule": ["view", "add", "change"],
    },
    "messaging": {
        "broadcast": ["add", "change"],
        "dailycontent": ["add", "change"],
    },
}
GROUPS = {
    "Operations Manager": [OPERATIONS_MANAGER],
    "DevOps": [OPERATIONS_MANAGER, DEVOPS_EXTRA],
}


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for grant in grants:
            for app_label, models in grant.items():
                for model, actions in models.items():
                    for action in actions:
                        group.permissions.add(
                            Permission.objects.get(
                                content_type__app_label=app_label,
                                codename=f"{action}_{model}",
                            )
                        )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("subscribers", "0002_i3_admin_filter_indexes"),
        ("messaging", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
