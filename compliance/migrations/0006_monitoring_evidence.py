"""Monitoring reports are immutable evidence; who may schedule, run and read them."""

from django.db import migrations

from audit.appendonly import create_triggers, drop_triggers
from compliance.roles import grant_permissions

TABLE = "compliance_monitoringreport"
ROLE_PERMISSIONS = {
    "Model risk officer": [
        "compliance.view_reportschedule",
        "compliance.add_reportschedule",
        "compliance.change_reportschedule",
        "compliance.view_historicalreportschedule",
        "compliance.view_monitoringreport",
        "compliance.add_monitoringreport",
    ],
    "Validator": [
        "compliance.view_reportschedule",
        "compliance.view_monitoringreport",
        "compliance.add_monitoringreport",
    ],
    "Auditor": [
        "compliance.view_reportschedule",
        "compliance.view_historicalreportschedule",
        "compliance.view_monitoringreport",
    ],
    "Model developer": ["compliance.view_reportschedule", "compliance.view_monitoringreport"],
}


def forwards(apps, schema_editor):
    create_triggers(schema_editor, TABLE)
    grant_permissions(apps, ROLE_PERMISSIONS)


def backwards(apps, schema_editor):
    drop_triggers(schema_editor, TABLE)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            codenames = [perm.split(".")[1] for perm in perms]
            group.permissions.remove(*Permission.objects.filter(codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("compliance", "0005_monitoring_reports"), ("audit", "0002_append_only")]

    operations = [migrations.RunPython(forwards, backwards)]
