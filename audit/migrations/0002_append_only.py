"""Make the ledger append-only in the database itself, whatever the client.

Triggers refuse UPDATE, DELETE and TRUNCATE on every ledger table, on PostgreSQL and SQLite.
"""

from django.db import migrations

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
    vendor = schema_editor.connection.vendor
    run = schema_editor.execute
    if vendor == "postgresql":
        run(POSTGRES_FUNCTION, None)
        for table in LEDGER_TABLES:
            run(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION attest_refuse_change()"
            )
            run(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change()"
            )
    elif vendor == "sqlite":
        # SQLite has no TRUNCATE; its truncate optimisation is off when a DELETE trigger exists.
        for table in LEDGER_TABLES:
            for op in ("UPDATE", "DELETE"):
                run(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'attest ledger: {op} on {table} refused, "
                    "the ledger is append-only'); END"
                )
    else:
        raise NotImplementedError(f"No append-only triggers for {vendor}")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    run = schema_editor.execute
    if vendor == "postgresql":
        for table in LEDGER_TABLES:
            run(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            run(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        run("DROP FUNCTION IF EXISTS attest_refuse_change()")
    elif vendor == "sqlite":
        for table in LEDGER_TABLES:
            for op in ("update", "delete"):
                run(f"DROP TRIGGER IF EXISTS {table}_no_{op}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_ledger")]

    operations = [migrations.RunPython(forwards, backwards)]
