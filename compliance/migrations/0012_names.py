"""Model slugs and version labels follow one pattern (``compliance.names``), checked by the
model, the API, the admin and, from here, the database: no label like ``../../tmp/zipslip`` can
name a file inside a document or an evidence pack.

Existing rows are checked first: a label is part of its version's manifest (hashed), so it is
never rewritten here; a row that breaks the rule stops the migration with its name, to be
retired and registered again under a valid label.
"""

import django.core.validators
from django.conf import settings
from django.db import migrations, models

from compliance.names import NAME_RULE, is_valid_name


def existing_names_follow_the_rule(apps, schema_editor):
    AIModel = apps.get_model("compliance", "AIModel")
    ModelVersion = apps.get_model("compliance", "ModelVersion")
    bad = [f"model slug {slug!r}" for slug in AIModel.objects.values_list("slug", flat=True)
           if not is_valid_name(slug)]  # fmt: skip
    bad += [
        f"version label {label!r} of model {slug}"
        for slug, label in ModelVersion.objects.values_list("model__slug", "label")
        if not is_valid_name(label)
    ]
    if bad:
        raise RuntimeError(f"Names that break the rule ({NAME_RULE}): {'; '.join(bad)}.")


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0011_retention_and_legal_holds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(existing_names_follow_the_rule, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="aimodel",
            name="slug",
            field=models.SlugField(
                max_length=100,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "\\A[A-Za-z0-9][A-Za-z0-9._+-]*\\Z",
                        "Use letters, digits, '.', '-', '_' and '+' only, starting with a letter or a digit (no '/', '\\', spaces or '..' at the start).",
                        code="invalid_name",
                    )
                ],
            ),
        ),
        migrations.AlterField(
            model_name="historicalaimodel",
            name="slug",
            field=models.SlugField(
                max_length=100,
                validators=[
                    django.core.validators.RegexValidator(
                        "\\A[A-Za-z0-9][A-Za-z0-9._+-]*\\Z",
                        "Use letters, digits, '.', '-', '_' and '+' only, starting with a letter or a digit (no '/', '\\', spaces or '..' at the start).",
                        code="invalid_name",
                    )
                ],
            ),
        ),
        migrations.AlterField(
            model_name="historicalmodelversion",
            name="label",
            field=models.CharField(
                help_text="e.g. 1.0.0 (letters, digits, '.', '-', '_', '+').",
                max_length=50,
                validators=[
                    django.core.validators.RegexValidator(
                        "\\A[A-Za-z0-9][A-Za-z0-9._+-]*\\Z",
                        "Use letters, digits, '.', '-', '_' and '+' only, starting with a letter or a digit (no '/', '\\', spaces or '..' at the start).",
                        code="invalid_name",
                    )
                ],
                verbose_name="version label",
            ),
        ),
        migrations.AlterField(
            model_name="modelversion",
            name="label",
            field=models.CharField(
                help_text="e.g. 1.0.0 (letters, digits, '.', '-', '_', '+').",
                max_length=50,
                validators=[
                    django.core.validators.RegexValidator(
                        "\\A[A-Za-z0-9][A-Za-z0-9._+-]*\\Z",
                        "Use letters, digits, '.', '-', '_' and '+' only, starting with a letter or a digit (no '/', '\\', spaces or '..' at the start).",
                        code="invalid_name",
                    )
                ],
                verbose_name="version label",
            ),
        ),
        migrations.AddConstraint(
            model_name="aimodel",
            constraint=models.CheckConstraint(
                condition=models.Q(("slug__regex", "\\A[A-Za-z0-9][A-Za-z0-9._+-]*\\Z")),
                name="model_slug_is_a_name",
                violation_error_message="Use letters, digits, '.', '-', '_' and '+' only, starting with a letter or a digit (no '/', '\\', spaces or '..' at the start).",
            ),
        ),
        migrations.AddConstraint(
            model_name="modelversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("label__regex", "\\A[A-Za-z0-9][A-Za-z0-9._+-]*\\Z")),
                name="version_label_is_a_name",
                violation_error_message="Use letters, digits, '.', '-', '_' and '+' only, starting with a letter or a digit (no '/', '\\', spaces or '..' at the start).",
            ),
        ),
    ]
