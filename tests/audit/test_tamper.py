"""Tamper drills: a superuser edits the ledger with the triggers off; the verifier catches it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.ledger import new_entry, record_event
from audit.merkle import leaf_hash
from audit.models import LEDGER_MODELS, Leaf, LedgerEntry, VerificationRun
from audit.sequencer import seal_all
from tests.audit.conftest import committed

pytestmark = committed
TABLES = [model._meta.db_table for model in LEDGER_MODELS]
# What a backup of the log holds, parents first (restored in this order, emptied in reverse).
BACKED_UP = [
    "audit_ledgerentry",
    "audit_governanceevent",
    "audit_leaf",
    "audit_treenode",
    "audit_checkpoint",
    "audit_sequencerstate",
]


def sql(statement: str, params=()) -> None:
    """Run as the database superuser with the append-only triggers out of the way."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        else:
            for table in TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        cursor.execute(statement, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


def verify(*args) -> str:
    out = StringIO()
    call_command("verify_ledger", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def ledger(db):
    """20 events sealed in two checkpoints (10 and 20); returns the entries in leaf order."""
    for n in range(10):
        record_event("drill.event", reason=f"event {n}")
    seal_all()
    for n in range(10, 20):
        record_event("drill.event", reason=f"event {n}")
    seal_all()
    return [leaf.entry for leaf in Leaf.objects.select_related("entry").order_by("index")]


def failure(*args) -> str:
    with pytest.raises(CommandError) as failed:
        verify(*args)
    assert VerificationRun.objects.latest().ok is False
    return str(failed.value)


def test_an_untouched_ledger_verifies(ledger):
    assert "verified 20 entries" in verify()
    assert VerificationRun.objects.latest().ok is True


def test_a_modified_payload_is_named(ledger):
    entry = ledger[7]
    forged = bytes(entry.canonical).replace(b"event 7", b"event 8")
    sql("UPDATE audit_ledgerentry SET canonical = %s WHERE id = %s", [forged, entry.pk])
    assert "entry 7 was modified" in failure()


def test_a_payload_rewritten_with_its_leaf_hash_is_caught_by_the_signed_root(ledger):
    entry = ledger[12]
    forged = new_entry("event", {"reason": "nothing to see"}, entry.received_at)
    sql(
        "UPDATE audit_ledgerentry SET canonical = %s, leaf_hash = %s WHERE id = %s",
        [bytes(forged.canonical), bytes(forged.leaf_hash), entry.pk],
    )
    assert "[10, 20)" in failure()


def test_reordered_entries_are_caught(ledger):
    a, b = ledger[3], ledger[4]
    sql("UPDATE audit_leaf SET entry_id = -1 WHERE entry_id = %s", [a.pk])
    sql("UPDATE audit_leaf SET entry_id = %s WHERE entry_id = %s", [a.pk, b.pk])
    sql("UPDATE audit_leaf SET entry_id = %s WHERE entry_id = -1", [b.pk])
    assert "entry 3" in failure() or "[0, 10)" in failure()


def test_a_deleted_entry_is_caught(ledger):
    sql('DELETE FROM audit_leaf WHERE "index" = 5')
    message = failure()
    assert "leaf 5 is missing" in message


def test_an_inserted_entry_is_caught(ledger):
    intruder = new_entry("event", {"reason": "backdated approval"}, ledger[0].received_at)
    intruder.save()
    sql('UPDATE audit_leaf SET "index" = "index" + 1000 WHERE "index" >= 5')
    sql('INSERT INTO audit_leaf ("index", entry_id) VALUES (5, %s)', [intruder.pk])
    sql('UPDATE audit_leaf SET "index" = "index" - 999 WHERE "index" >= 1000')
    assert LedgerEntry.objects.count() == 21
    failure()


def test_a_truncated_tail_is_caught_against_a_checkpoint_kept_elsewhere(ledger, tmp_path):
    kept = tmp_path / "checkpoint.json"
    call_command("export_checkpoint", "--out", str(kept), stdout=StringIO())
    tail = [e.pk for e in ledger[15:]]
    sql('DELETE FROM audit_leaf WHERE "index" >= 15')
    sql(f"DELETE FROM audit_governanceevent WHERE entry_id IN ({','.join(map(str, tail))})")
    sql(f"DELETE FROM audit_ledgerentry WHERE id IN ({','.join(map(str, tail))})")
    sql("DELETE FROM audit_checkpoint WHERE tree_size > 15")
    assert "truncated" in failure("--checkpoint", str(kept))


def kept_checkpoint(tmp_path) -> str:
    """The latest checkpoint, exported to a file the tamperer cannot reach."""
    kept = tmp_path / "checkpoint.json"
    call_command("export_checkpoint", "--out", str(kept), stdout=StringIO())
    return str(kept)


def test_an_older_backup_restored_is_caught_against_a_kept_checkpoint(db, tmp_path):
    for n in range(10):
        record_event("drill.event", reason=f"event {n}")
    seal_all()
    for table in BACKED_UP:  # a backup of the log as it stood at tree size 10
        sql(f"DROP TABLE IF EXISTS backup_{table}")
        sql(f"CREATE TEMP TABLE backup_{table} AS SELECT * FROM {table}")
    for n in range(10, 20):
        record_event("drill.event", reason=f"event {n}")
    seal_all()
    kept = kept_checkpoint(tmp_path)

    for table in reversed(BACKED_UP):  # the backup restored over the log
        sql(f"DELETE FROM {table}")
    for table in BACKED_UP:
        sql(f"INSERT INTO {table} SELECT * FROM backup_{table}")
    assert "verified 10 entries" in verify()  # on its own the restored log looks whole
    assert "the tail was truncated" in failure("--checkpoint", kept)

    for n in range(15):  # and it grows on, past the kept checkpoint, with another history
        record_event("drill.event", reason=f"rewritten {n}")
    seal_all()
    assert "verified 25 entries" in verify()
    assert "the log rewrote its history" in failure("--checkpoint", kept)


def test_a_payload_changed_and_the_whole_tree_rebuilt_and_re_signed_is_caught(ledger, tmp_path):
    """The worst case: a superuser who also holds the signing key rebuilds a log that verifies
    on its own. Only a checkpoint kept elsewhere shows that history was rewritten."""
    kept = kept_checkpoint(tmp_path)
    entry = ledger[7]
    forged = bytes(entry.canonical).replace(b"event 7", b"event 8")
    sql(
        "UPDATE audit_ledgerentry SET canonical = %s, leaf_hash = %s WHERE id = %s",
        [forged, leaf_hash(forged), entry.pk],
    )
    sql("UPDATE audit_governanceevent SET reason = 'event 8' WHERE entry_id = %s", [entry.pk])
    for table in ("audit_leaf", "audit_treenode", "audit_checkpoint", "audit_sequencerstate"):
        sql(f"DELETE FROM {table}")
    seal_all()  # re-sequenced and re-signed with the log's own key

    assert "verified 20 entries" in verify()
    assert "the log rewrote its history" in failure("--checkpoint", kept)
