"""What each role may do in the approval workflow (see the roles table of the README).

Validators review, record findings and conditions, and approve or reject; nobody else does.
Risk officers deploy, roll back and retire, accept the risk of a finding and stop a model; they
see everything but validate nothing (second line, not validators). Developers submit. Service
accounts relay human-oversight events from the applications that show predictions to people.
"""

from django.db import migrations

from compliance.roles import grant_permissions

READ_WORKFLOW = [
    "compliance.view_validationreview",
    "compliance.view_finding",
    "compliance.view_condition",
    "compliance.view_deployment",
]
READ_HISTORY = [
    "compliance.view_historicalvalidationreview",
    "compliance.view_historicalfinding",
    "compliance.view_historicalcondition",
]
ROLE_PERMISSIONS = {
    "Model risk officer": [
        *READ_WORKFLOW,
        *READ_HISTORY,
        "compliance.deploy_modelversion",
        "compliance.accept_risk_finding",
        "compliance.record_oversight",
    ],
    "Validator": [
        *READ_WORKFLOW,
        "compliance.view_validationqueue",
        "compliance.validate_modelversion",
        "compliance.add_validationreview",
        "compliance.change_validationreview",
        "compliance.add_finding",
        "compliance.change_finding",
        "compliance.add_condition",
        "compliance.change_condition",
    ],
    "Auditor": [*READ_WORKFLOW, *READ_HISTORY],
    "Model developer": [*READ_WORKFLOW, "compliance.submit_modelversion"],
    "Service account": ["compliance.record_oversight"],
}


def forwards(apps, schema_editor):
    grant_permissions(apps, ROLE_PERMISSIONS)


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLE_PERMISSIONS.items():
        codenames = [perm.split(".")[1] for perm in perms]
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="compliance", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [("compliance", "0003_workflow")]

    operations = [migrations.RunPython(forwards, backwards)]
