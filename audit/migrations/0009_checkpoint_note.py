"""Checkpoints also as C2SP signed notes (issue 17, point 9).

A nullable column without a default, so SQLite adds it in place (ALTER TABLE ADD COLUMN) and
the table keeps its append-only triggers; checkpoints issued before have no note.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0008_purge_by_sealed_event"),
    ]

    operations = [
        migrations.AddField(
            model_name="checkpoint",
            name="note",
            field=models.TextField(editable=False, null=True),
        ),
    ]
