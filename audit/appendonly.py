"""Rows that are written once and never changed: the ORM half of the ledger's guarantee.

Database triggers (``create_triggers``) are the other half: they refuse UPDATE, DELETE and
TRUNCATE whatever the client. Imports no models, so any app's models can use it.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class AppendOnlyError(Exception):
    """An attempt to change or delete a ledger row."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: they cannot change.")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: they cannot go.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: they cannot change.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(
                f"{type(self).__name__} rows are append-only: they cannot change."
            )
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only: they cannot go.")


def create_triggers(schema_editor, table: str) -> None:
    """Refuse UPDATE, DELETE (and TRUNCATE) on ``table`` in the database itself.

    Needs the function ``attest_refuse_change()`` that audit's migration 0002 creates on
    PostgreSQL; migrations that call this depend on it.
    """
    run = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        run(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION attest_refuse_change()"
        )
        run(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION attest_refuse_change()"
        )
    else:
        for op in ("UPDATE", "DELETE"):
            run(
                f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'attest: {op} on {table} refused, it is "
                "append-only'); END"
            )


def drop_triggers(schema_editor, table: str) -> None:
    run = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        run(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        run(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    else:
        for op in ("update", "delete"):
            run(f"DROP TRIGGER IF EXISTS {table}_no_{op}")


# The one change the ledger allows: dropping the payload of a sealed prediction or outcome
# past retention, keeping its leaf hash, by a recorded purge. On PostgreSQL only inside
# ``public.attest_purge`` (below), which judges the purge first and names it in the
# transaction-local setting ``attest.purging``; the application's role has no UPDATE at all.
# Every table is schema-qualified: an attacker's temporary table of the same name comes first
# on the search path.
def _purge_allowed(schema: str) -> str:
    return f"""
    OLD.purged_by_id IS NULL AND NEW.purged_by_id IS NOT NULL AND length(NEW.canonical) = 0
    AND NEW.id = OLD.id AND NEW.kind = OLD.kind AND OLD.kind IN ('prediction', 'outcome')
    AND NEW.received_at = OLD.received_at AND NEW.leaf_hash = OLD.leaf_hash
    AND EXISTS (SELECT 1 FROM {schema}audit_leaf WHERE entry_id = OLD.id)
    AND EXISTS (
        SELECT 1 FROM {schema}audit_governanceevent
        WHERE entry_id = NEW.purged_by_id AND event_type = 'ledger.purged'
    )
"""


PURGING = "nullif(current_setting('attest.purging', true), '')::bigint"
REFUSED = "only a recorded purge may drop a sealed payload"


def allow_purge_only(schema_editor) -> None:
    """Replace the ledger entries' UPDATE/DELETE triggers by ones that let a purge through."""
    run = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        run("DROP TRIGGER IF EXISTS audit_ledgerentry_append_only ON public.audit_ledgerentry")
        run(
            "CREATE OR REPLACE FUNCTION public.attest_purge_only() RETURNS trigger\n"
            "SET search_path = pg_catalog, pg_temp AS $$\n"
            f"BEGIN\n  IF TG_OP = 'UPDATE' AND {_purge_allowed('public.')}\n"
            f"    AND NEW.purged_by_id = {PURGING} THEN RETURN NEW; END IF;\n"
            "  RAISE EXCEPTION 'attest ledger: % on % refused, the ledger is append-only "
            f"({REFUSED})', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';\n"
            "END;\n$$ LANGUAGE plpgsql",
            None,
        )
        run("DROP TRIGGER IF EXISTS audit_ledgerentry_purge_only ON public.audit_ledgerentry")
        run(
            "CREATE TRIGGER audit_ledgerentry_purge_only BEFORE UPDATE OR DELETE ON "
            "public.audit_ledgerentry FOR EACH ROW EXECUTE FUNCTION public.attest_purge_only()"
        )
    else:
        run("DROP TRIGGER IF EXISTS audit_ledgerentry_no_update")
        run(
            "CREATE TRIGGER audit_ledgerentry_no_update BEFORE UPDATE ON audit_ledgerentry "
            f"WHEN NOT coalesce(({_purge_allowed('')}), 0) BEGIN SELECT RAISE(ABORT, 'attest: "
            f"UPDATE on audit_ledgerentry refused, it is append-only ({REFUSED})'); END"
        )


def refuse_purge(schema_editor) -> None:
    """Undo :func:`allow_purge_only`: back to refusing every UPDATE and DELETE."""
    run = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        run("DROP TRIGGER IF EXISTS audit_ledgerentry_purge_only ON audit_ledgerentry")
        run("DROP FUNCTION IF EXISTS attest_purge_only()")
        run(
            "CREATE TRIGGER audit_ledgerentry_append_only BEFORE UPDATE OR DELETE ON "
            "audit_ledgerentry FOR EACH ROW EXECUTE FUNCTION attest_refuse_change()"
        )
    else:
        run("DROP TRIGGER IF EXISTS audit_ledgerentry_no_update")
        run(
            "CREATE TRIGGER audit_ledgerentry_no_update BEFORE UPDATE ON audit_ledgerentry "
            "BEGIN SELECT RAISE(ABORT, 'attest: UPDATE on audit_ledgerentry refused, it is "
            "append-only'); END"
        )
