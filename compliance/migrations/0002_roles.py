"""Create the five role groups with their permissions."""

from django.db import migrations

from compliance.roles import grant_permissions

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


def create_roles(apps, schema_editor):
    grant_permissions(apps, ROLE_PERMISSIONS)


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0001_inventory"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
