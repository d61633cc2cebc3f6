"""Erasure and retention: per-subject keys for personal fields, and the one change the ledger
allows, dropping a sealed payload past retention (the triggers let exactly that through).
Only risk officers and auditors see the subject keys' bookkeeping (never the keys)."""

import uuid

import django.db.models.deletion
from django.db import migrations, models

from audit.appendonly import allow_purge_only, refuse_purge


def forwards(apps, schema_editor):
    allow_purge_only(schema_editor)


def backwards(apps, schema_editor):
    refuse_purge(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0006_alert_acknowledgement"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="purged_by",
            field=models.ForeignKey(
                blank=True,
                help_text="The ledger.purged event that dropped this entry's payload (its hash stays).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="audit.ledgerentry",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="canonical",
            field=models.BinaryField(help_text="Empty once purged past retention."),
        ),
        migrations.AlterField(
            model_name="predictionrecord",
            name="content_sha256",
            field=models.CharField(
                help_text="Keyed HMAC-SHA256 of the item as submitted (retries).", max_length=64
            ),
        ),
        migrations.CreateModel(
            name="SubjectKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reference", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("subject_digest", models.CharField(max_length=64, null=True, unique=True)),
                ("key", models.BinaryField(max_length=32, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("erased_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("erased_at__isnull", True), ("key__isnull", False)),
                            models.Q(
                                ("erased_at__isnull", False),
                                ("key__isnull", True),
                                ("subject_digest__isnull", True),
                            ),
                            _connector="OR",
                        ),
                        name="subject_key_erased_means_gone",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="predictionrecord",
            name="subject",
            field=models.ForeignKey(
                blank=True,
                help_text="The data subject whose personal fields the entry holds encrypted.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="predictions",
                to="audit.subjectkey",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
