"""Ledger rows cannot change or go: the ORM refuses, and so does the database."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from audit.ledger import record_event
from audit.models import AppendOnlyError, Checkpoint, GovernanceEvent, LedgerEntry, TreeNode
from audit.sequencer import seal_all
from tests.audit.conftest import committed

pytestmark = committed

LEDGER_TABLES = [
    "audit_ledgerentry",
    "audit_governanceevent",
    "audit_leaf",
    "audit_treenode",
    "audit_checkpoint",
]


@pytest.fixture
def sealed_event(db):
    event = record_event("test.event", reason="something happened")
    seal_all()
    return event


def test_the_orm_refuses_to_change_or_delete_a_ledger_row(sealed_event):
    entry = sealed_event.entry
    entry.kind = "outcome"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        LedgerEntry.objects.all().update(kind="x")
    with pytest.raises(AppendOnlyError):
        GovernanceEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        Checkpoint.objects.all().delete()


@pytest.mark.parametrize("table", LEDGER_TABLES)
def test_the_database_refuses_raw_update_and_delete(sealed_event, table):
    column = {"audit_leaf": "entry_id", "audit_treenode": "key"}.get(table, "id")
    for sql in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert TreeNode.objects.exists()


@pytest.mark.postgres
@pytest.mark.parametrize("table", LEDGER_TABLES)
def test_postgres_refuses_truncate(sealed_event, table):
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table} CASCADE")
