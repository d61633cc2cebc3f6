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
