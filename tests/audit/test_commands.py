"""The ledger's commands: seal_ledger, run_sequencer, export_ledger, export_checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.ledger import record_event
from audit.models import Checkpoint, Leaf
from tests.audit.conftest import committed

pytestmark = committed


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seal_ledger_seals_what_is_pending(db):
    for n in range(3):
        record_event("test.event", reason=str(n))
    assert run("seal_ledger") == "Sealed 3 entries.\n"
    assert run("seal_ledger") == "Sealed 0 entries.\n"


def test_run_sequencer_seals_within_its_interval(db):
    record_event("test.event")
    run("run_sequencer", "--interval", "0.05", "--stop-after", "0.3")
    assert Leaf.objects.count() == 1
    assert Checkpoint.objects.get().tree_size == 1


def test_export_checkpoint_needs_a_checkpoint(db):
    with pytest.raises(CommandError, match="No checkpoint yet"):
        run("export_checkpoint")


def test_an_exported_ledger_verifies_with_the_standalone_verifier(db, tmp_path):
    for n in range(5):
        record_event("test.event", reason=str(n))
    run("seal_ledger")
    signed = json.loads(run("export_checkpoint"))
    assert signed["statement"]["tree_size"] == 5
    assert "Exported 5 entries" in run("export_ledger", str(tmp_path / "export"))
    result = subprocess.run(
        [sys.executable, "-m", "audit.verify", str(tmp_path / "export")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified 5 entries" in result.stdout
