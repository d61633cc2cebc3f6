"""Explanations computed in the background: their ledger kind, their append-only records (with
triggers, like every ledger table), the explainer's progress per version, and who reads them."""

import django.db.models.deletion
from django.db import migrations, models

from audit.appendonly import create_triggers, drop_triggers
from compliance.roles import grant_permissions

TABLE = "audit_explanationrecord"
READERS = ["Model risk officer", "Validator", "Auditor", "Model developer"]
ROLE_PERMISSIONS = {name: ["audit.view_explanationrecord"] for name in READERS}


def forwards(apps, schema_editor):
    create_triggers(schema_editor, TABLE)
    grant_permissions(apps, ROLE_PERMISSIONS)


def backwards(apps, schema_editor):
    drop_triggers(schema_editor, TABLE)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=READERS):
        group.permissions.remove(*Permission.objects.filter(codename="view_explanationrecord"))


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_alerts_by_subject"),
        ("compliance", "0007_model_artifacts"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExplainerProgress",
            fields=[
                (
                    "version",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="explainer_progress",
                        serialize=False,
                        to="compliance.modelversion",
                    ),
                ),
                (
                    "watermark_id",
                    models.BigIntegerField(default=0, help_text="Entries up to this id are done."),
                ),
                ("explained", models.BigIntegerField(default=0)),
                ("unexplainable", models.BigIntegerField(default=0)),
                ("logged_with_explanation", models.BigIntegerField(default=0)),
                (
                    "mismatches",
                    models.BigIntegerField(
                        default=0, help_text="Explanations that did not add up."
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name_plural": "explainer progress",
            },
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("prediction", "Prediction"),
                    ("outcome", "Outcome"),
                    ("event", "Governance event"),
                    ("explanation", "Explanation of a prediction"),
                ],
                max_length=20,
            ),
        ),
        migrations.CreateModel(
            name="ExplanationRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "decided_at",
                    models.DateTimeField(help_text="The prediction's, for windows of importance."),
                ),
                ("computed_at", models.DateTimeField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("computed", "Computed"),
                            ("unexplainable", "Could not be explained"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "method",
                    models.CharField(
                        blank=True, help_text="e.g. shap.LinearExplainer", max_length=60
                    ),
                ),
                (
                    "output_space",
                    models.CharField(blank=True, help_text="e.g. log_odds", max_length=20),
                ),
                ("base_value", models.FloatField(null=True)),
                ("model_output", models.FloatField(null=True)),
                ("contributions", models.JSONField(help_text="feature -> SHAP value", null=True)),
                ("additivity_error", models.FloatField(null=True)),
                (
                    "additive",
                    models.BooleanField(
                        help_text="Contributions + base value = model output, within tolerance.",
                        null=True,
                    ),
                ),
                ("note", models.TextField(blank=True, help_text="Why it could not be explained.")),
                (
                    "entry",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="explanation",
                        to="audit.ledgerentry",
                    ),
                ),
                (
                    "prediction",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="computed_explanation",
                        to="audit.predictionrecord",
                    ),
                ),
                (
                    "version",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="compliance.modelversion",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["version", "decided_at"], name="explanation_version_time")
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
