"""Starving the sequencer: keeping an acknowledged entry out of every signed checkpoint.

The attacks of issue 16, hole 8. Only the sequencer, under a database role of its own, writes
its state, the leaves, the tree and the checkpoints; the application's role reads them. And
``verify_ledger`` fails when a committed entry older than ``LEDGER_SEAL_BOUND_SECONDS`` is in no
signed checkpoint, naming it, however it was kept out.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.ledger import record_event
from audit.models import Checkpoint, LedgerEntry, SequencerState
from audit.sequencer import seal_all
from tests.audit.conftest import POSTGRES, committed
from tests.audit.test_tamper import sql as superuser_sql
from tests.support.roles import APP, SEQUENCER, as_role, create_roles

pytestmark = committed

POSTGRES_ONLY = pytest.mark.skipif(
    not POSTGRES, reason="SQLite has no database roles: one file, one writer, no grants"
)


@pytest.fixture
def sealed(db) -> LedgerEntry:
    record_event("test.event", reason="sealed before the attack")
    seal_all()
    return LedgerEntry.objects.get()


def run_as(role: str, statement: str, params=()) -> None:
    with as_role(role), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@POSTGRES_ONLY
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_sequencerstate SET watermark_id = (SELECT max(id) FROM audit_ledgerentry)",
        "DELETE FROM audit_sequencerstate",
        "INSERT INTO audit_checkpoint (tree_size, root_hash, issued_at, log_id, key_id, "
        "signature) VALUES (999, '\\x00', now(), 'junk', 'junk', '\\x00')",
        'INSERT INTO audit_leaf ("index", entry_id) SELECT 999, max(id) FROM audit_ledgerentry',
        "INSERT INTO audit_treenode (key, hash) VALUES (999, '\\x00')",
    ],
    ids=["move the watermark", "reset the state", "junk checkpoint", "junk leaf", "junk node"],
)
def test_the_app_role_cannot_write_what_only_the_sequencer_writes(sealed, statement):
    create_roles()
    with pytest.raises(DatabaseError, match="permission denied"):
        run_as(APP, statement)
    assert Checkpoint.objects.count() == 1


@POSTGRES_ONLY
def test_the_sequencer_role_seals_and_the_app_role_reads(sealed):
    create_roles()
    with as_role(APP):
        record_event("test.event", reason="written by the application")
    with as_role(SEQUENCER):
        assert seal_all() == 1
    with as_role(APP):
        assert Checkpoint.objects.latest().tree_size == 2


@POSTGRES_ONLY
def test_the_app_role_cannot_seal(sealed):
    create_roles()
    record_event("test.event", reason="pending")
    with as_role(APP), pytest.raises(DatabaseError, match="permission denied"):
        seal_all()


def test_verify_ledger_names_an_entry_kept_out_of_every_checkpoint(sealed):
    starved = record_event("test.event", reason="acknowledged, then starved").entry
    superuser_sql("UPDATE audit_sequencerstate SET watermark_id = %s WHERE id = 1", [starved.pk])
    record_event("test.event", reason="sealed after the starved one")
    seal_all()
    assert SequencerState.objects.get().tree_size == 2  # the starved entry has no leaf
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61)):
        with pytest.raises(CommandError) as failed:
            call_command("verify_ledger")
    assert f"entry {starved.pk}" in str(failed.value)
    assert "in no signed checkpoint" in str(failed.value)


def test_a_young_pending_entry_is_not_a_failure(sealed):
    record_event("test.event", reason="pending for a moment")
    call_command("verify_ledger")


def test_the_bound_is_a_setting(sealed, settings):
    settings.LEDGER_SEAL_BOUND_SECONDS = 3600
    record_event("test.event", reason="pending")
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61)):
        call_command("verify_ledger")
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=3601)):
        with pytest.raises(CommandError, match="in no signed checkpoint"):
            call_command("verify_ledger")
