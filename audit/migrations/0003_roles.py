"""What each role may do with the ledger."""

from django.db import migrations

from compliance.roles import grant_permissions

READ_ALL = [
    "audit.view_ledgerentry",
    "audit.view_predictionrecord",
    "audit.view_sensitiveattributes",
    "audit.view_outcomerecord",
    "audit.view_governanceevent",
    "audit.view_leaf",
    "audit.view_treenode",
    "audit.view_checkpoint",
    "audit.view_alert",
]
ROLE_PERMISSIONS = {
    "Model risk officer": [*READ_ALL, "audit.change_alert"],
    "Validator": [
        "audit.view_predictionrecord",
        "audit.view_sensitiveattributes",
        "audit.view_outcomerecord",
        "audit.view_governanceevent",
        "audit.view_checkpoint",
        "audit.view_alert",
    ],
    "Auditor": READ_ALL,
    "Model developer": [
        "audit.view_predictionrecord",
        "audit.view_outcomerecord",
        "audit.view_checkpoint",
        "audit.view_alert",
    ],
    "Service account": [
        "audit.add_predictionrecord",
        "audit.add_outcomerecord",
        "audit.view_predictionrecord",
        "audit.view_checkpoint",
    ],
}


def forwards(apps, schema_editor):
    grant_permissions(apps, ROLE_PERMISSIONS)


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=ROLE_PERMISSIONS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="audit"))


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only"), ("compliance", "0002_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
