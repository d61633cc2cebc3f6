from django.db import migrations, models

# The actions as they were when this migration was written (compliance.choices.KeyAction).
ALL_ACTIONS = [
    "issue_documents",
    "log_outcomes",
    "log_predictions",
    "manage_inventory",
    "read_inventory",
    "read_ledger",
    "read_reports",
    "read_trail",
    "record_oversight",
    "run_reports",
    "run_workflow",
]


def keep_existing_keys_working(apps, schema_editor):
    """Keys issued before scopes existed could do whatever their owner's role allowed: they
    keep that scope (all models, every action) until revoked and reissued with a narrower one."""
    UserAPIKey = apps.get_model("compliance", "UserAPIKey")
    UserAPIKey.objects.update(all_models=True, actions=ALL_ACTIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0007_model_artifacts"),
    ]

    operations = [
        migrations.AddField(
            model_name="userapikey",
            name="actions",
            field=models.JSONField(default=list, help_text="The KeyAction values the key may do."),
        ),
        migrations.AddField(
            model_name="userapikey",
            name="ai_models",
            field=models.ManyToManyField(
                blank=True, related_name="api_keys", to="compliance.aimodel", verbose_name="models"
            ),
        ),
        migrations.AddField(
            model_name="userapikey",
            name="all_models",
            field=models.BooleanField(
                default=False,
                help_text="Every model, present and future (only if deliberately chosen).",
            ),
        ),
        migrations.RunPython(keep_existing_keys_working, migrations.RunPython.noop),
    ]
