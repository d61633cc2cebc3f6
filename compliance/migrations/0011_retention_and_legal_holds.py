"""Retention per model (at least six months, EU AI Act Art. 19) and legal holds, which risk
officers and auditors may see."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from compliance.roles import grant_permissions

READERS = ["Model risk officer", "Auditor"]


def forwards(apps, schema_editor):
    grant_permissions(apps, {name: ["compliance.view_legalhold"] for name in READERS})


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=READERS):
        group.permissions.remove(*Permission.objects.filter(codename="view_legalhold"))


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_erasure_and_retention"),
        ("compliance", "0010_prediction_volume"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LegalHold",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.TextField()),
                ("placed_at", models.DateTimeField(auto_now_add=True)),
                ("released_at", models.DateTimeField(blank=True, null=True)),
                ("release_reason", models.TextField(blank=True)),
            ],
        ),
        migrations.AddField(
            model_name="aimodel",
            name="retention_months",
            field=models.PositiveSmallIntegerField(
                default=6,
                help_text="Months the payloads of its predictions and outcomes are kept; then purged (their hashes stay). At least 6 (EU AI Act Art. 19).",
                validators=[
                    django.core.validators.MinValueValidator(
                        6, "Logs must be kept at least 6 months (EU AI Act Art. 19)."
                    )
                ],
            ),
        ),
        migrations.AddField(
            model_name="historicalaimodel",
            name="retention_months",
            field=models.PositiveSmallIntegerField(
                default=6,
                help_text="Months the payloads of its predictions and outcomes are kept; then purged (their hashes stay). At least 6 (EU AI Act Art. 19).",
                validators=[
                    django.core.validators.MinValueValidator(
                        6, "Logs must be kept at least 6 months (EU AI Act Art. 19)."
                    )
                ],
            ),
        ),
        migrations.AddConstraint(
            model_name="aimodel",
            constraint=models.CheckConstraint(
                condition=models.Q(("retention_months__gte", 6)),
                name="retention_at_least_six_months",
                violation_error_message="Logs must be kept at least 6 months (EU AI Act Art. 19).",
            ),
        ),
        migrations.AddField(
            model_name="legalhold",
            name="model",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="legal_holds",
                to="compliance.aimodel",
            ),
        ),
        migrations.AddField(
            model_name="legalhold",
            name="placed_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="legalhold",
            name="released_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="legalhold",
            name="subject",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="legal_holds",
                to="audit.subjectkey",
            ),
        ),
        migrations.AddConstraint(
            model_name="legalhold",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("model__isnull", False), ("subject__isnull", True)),
                    models.Q(("model__isnull", True), ("subject__isnull", False)),
                    _connector="OR",
                ),
                name="legal_hold_on_a_model_or_a_subject",
                violation_error_message="A legal hold is on one model or one data subject.",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
