"""Model artifacts: the skops file of a version, immutable evidence; who may upload and read them."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from audit.appendonly import create_triggers, drop_triggers
from compliance.roles import grant_permissions

TABLE = "compliance_modelartifact"
ROLE_PERMISSIONS = {
    "Model risk officer": ["compliance.view_modelartifact"],
    "Validator": ["compliance.view_modelartifact"],
    "Auditor": ["compliance.view_modelartifact"],
    "Model developer": ["compliance.view_modelartifact", "compliance.add_modelartifact"],
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
    dependencies = [
        ("compliance", "0006_monitoring_evidence"),
        ("audit", "0002_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ModelArtifact",
            fields=[
                (
                    "version",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="artifact",
                        serialize=False,
                        to="compliance.modelversion",
                    ),
                ),
                ("content", models.BinaryField(help_text="The skops file, byte for byte.")),
                (
                    "sha256",
                    models.CharField(
                        max_length=64,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[0-9a-f]{64}$",
                                "Enter a SHA-256 digest: 64 lowercase hexadecimal characters.",
                            )
                        ],
                        verbose_name="SHA-256",
                    ),
                ),
                ("size", models.PositiveBigIntegerField(help_text="bytes")),
                (
                    "estimator",
                    models.CharField(
                        help_text="What the file holds, e.g. Pipeline(StandardScaler, …).",
                        max_length=300,
                    ),
                ),
                (
                    "features",
                    models.JSONField(help_text="The input columns the model reads, in its order."),
                ),
                (
                    "background",
                    models.JSONField(
                        help_text="Reference rows (one list of numbers per row, in feature order)."
                    ),
                ),
                ("background_sha256", models.CharField(max_length=64)),
                ("background_source", models.CharField(max_length=200)),
                (
                    "explainer",
                    models.CharField(help_text="e.g. shap.LinearExplainer", max_length=60),
                ),
                ("output_space", models.CharField(help_text="e.g. log_odds", max_length=20)),
                ("uploaded_at", models.DateTimeField()),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-uploaded_at"],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
