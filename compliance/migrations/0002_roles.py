"""Create the five role groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Model risk officer": [
        "compliance.view_aimodel",
        "compliance.add_aimodel",
        "compliance.change_aimodel",
        "compliance.view_modelversion",
        "compliance.view_historicalaimodel",
        "compliance.view_historicalmodelversion",
        "compliance.view_userapikey",
        "compliance.change_userapikey",
    ],
    "Validator": [
        "compliance.view_aimodel",
        "compliance.view_modelversion",
        "compliance.view_historicalaimodel",
        "compliance.view_historicalmodelversion",
    ],
    "Auditor": [
        "compliance.view_aimodel",
        "compliance.view_modelversion",
        "compliance.view_historicalaimodel",
        "compliance.view_historicalmodelversion",
        "compliance.view_userapikey",
    ],
    "Model developer": [
        "compliance.view_aimodel",
        "compliance.view_modelversion",
        "compliance.add_modelversion",
        "compliance.change_modelversion",
        "compliance.view_historicalmodelversion",
    ],
    "Service account": [],
}


def grant(apps, role_permissions):
    # Permissions are normally created after all migrations; create them now so they can be
    # granted here on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def create_roles(apps, schema_editor):
    grant(apps, ROLE_PERMISSIONS)


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0001_inventory"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
