"""What each role may do with documentation."""

from django.db import migrations

from compliance.roles import grant_permissions

ISSUE = [
    "modelcards.view_issueddocument",
    "modelcards.add_issueddocument",
    "modelcards.view_documentjob",
    "modelcards.add_documentjob",
]
NARRATIVE = [
    "modelcards.view_modelnarrative",
    "modelcards.add_modelnarrative",
    "modelcards.change_modelnarrative",
    "modelcards.view_historicalmodelnarrative",
]
ROLE_PERMISSIONS = {
    "Model risk officer": [*ISSUE, *NARRATIVE],
    "Validator": [*ISSUE, "modelcards.view_modelnarrative"],
    "Auditor": [
        *ISSUE,
        "modelcards.view_modelnarrative",
        "modelcards.view_historicalmodelnarrative",
    ],
    "Model developer": ["modelcards.view_issueddocument", *NARRATIVE],
    "Service account": [],
}


def forwards(apps, schema_editor):
    grant_permissions(apps, ROLE_PERMISSIONS)


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=ROLE_PERMISSIONS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="modelcards"))


class Migration(migrations.Migration):
    dependencies = [("modelcards", "0001_documents"), ("compliance", "0002_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
