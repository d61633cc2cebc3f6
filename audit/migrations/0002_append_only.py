"""Make the ledger append-only in the database itself, whatever the client.

Triggers refuse UPDATE, DELETE and TRUNCATE on every ledger table, on PostgreSQL and SQLite.
SQLite has no TRUNCATE, and its truncate optimisation is off when a DELETE trigger exists.
"""

from django.db import migrations

from audit.appendonly import create_triggers, drop_triggers

LEDGER_TABLES = [
    "audit_ledgerentry",
    "audit_predictionrecord",
    "audit_outcomerecord",
    "audit_governanceevent",
    "audit_leaf",
    "audit_treenode",
    "audit_checkpoint",
]

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION attest_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'attest ledger: % on % refused, the ledger is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTION, None)
    for table in LEDGER_TABLES:
        create_triggers(schema_editor, table)


def backwards(apps, schema_editor):
    for table in LEDGER_TABLES:
        drop_triggers(schema_editor, table)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS attest_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_ledger")]

    operations = [migrations.RunPython(forwards, backwards)]
