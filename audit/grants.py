"""What each PostgreSQL role may do to each table: one table of rules, two commands.

* The application's role (web servers, workers, commands): SELECT and INSERT on the ledger's
  entries and projections, SELECT only on what the sequencer writes, read and write on the
  mutable governance tables; a payload is dropped only through ``attest_purge`` (EXECUTE).
  Sensitive attributes are committed by a salted digest, never rewritten: SELECT, INSERT and
  the DELETE that erasure and purges need. (A mutable governance table's rows are guarded by
  the projections pass of ``verify_ledger``, which names any change without its event.)
* The sequencer's role (``run_sequencer`` connects as it): reads the ledger, writes only its
  state, the leaves, the tree, the checkpoints and the per-day volumes it counts as it seals.

Neither may UPDATE, DELETE or TRUNCATE a ledger table. The tables' owner (who migrates) runs
``grant_app_role`` and ``grant_sequencer_role`` after every migrate.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection
from psycopg import sql

from audit.models import LEDGER_MODELS, SEQUENCER_MODELS

PURGE_FUNCTION = "public.attest_purge(bigint)"


def _tables(models) -> set[str]:
    return {model._meta.db_table for model in models}


def _sequencer_writes() -> set[str]:
    return _tables([*SEQUENCER_MODELS, apps.get_model("compliance", "PredictionVolume")])


def app_privileges(table: str, known: set[str]) -> str | None:
    if table in _sequencer_writes():
        return "SELECT"
    if table in _tables(LEDGER_MODELS):
        return "SELECT, INSERT"
    if table in _tables([apps.get_model("audit", "SensitiveAttributes")]):
        return "SELECT, INSERT, DELETE"
    if table in known or table == "django_migrations":
        return "SELECT, INSERT, UPDATE, DELETE"
    return None


def sequencer_privileges(table: str, known: set[str]) -> str | None:
    state = _tables([apps.get_model("audit", "SequencerState")])
    volumes = _tables([apps.get_model("compliance", "PredictionVolume")])
    if table in state | volumes:
        return "SELECT, INSERT, UPDATE"
    if table in _sequencer_writes():
        return "SELECT, INSERT"
    if table in _tables(LEDGER_MODELS) | _tables([apps.get_model("compliance", "ModelVersion")]):
        return "SELECT"  # the volumes are counted per version's model
    return None


def grant(role_name: str, privileges_of, *, purge: bool) -> None:
    """Revoke everything from the role, then grant what ``privileges_of(table, known)`` says."""
    role = sql.Identifier(role_name)
    known = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
        cursor.execute(
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role)
        )
        for table in connection.introspection.table_names():
            name = sql.Identifier(table)
            cursor.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(name, role))
            privileges = privileges_of(table, known)
            if privileges:
                cursor.execute(
                    sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(privileges), name, role)
                )
        verb = "GRANT" if purge else "REVOKE"
        direction = "TO" if purge else "FROM"
        cursor.execute(
            sql.SQL(f"{verb} EXECUTE ON FUNCTION {PURGE_FUNCTION} {direction} {{}}").format(role)
        )
