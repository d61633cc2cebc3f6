"""The triggers let exactly a recorded purge through, and the verifier accepts a purged entry
only when its purge event names it: dropping a payload any other way is still caught."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.export import export_ledger
from audit.ingest import ingest_predictions
from audit.ledger import record_event
from audit.models import GovernanceEvent, Leaf, LedgerEntry
from audit.sequencer import seal_all
from audit.verify import verify_directory
from compliance.retention import purge_expired
from tests.audit.conftest import committed, prediction

pytestmark = committed


def post(client, body):
    return client.post("/api/v1/predictions/", json.dumps(body), content_type="application/json")


@pytest.fixture
def sealed(api, service, version) -> list[LedgerEntry]:
    """Three sealed prediction entries, then a sealed governance event, in leaf order."""
    assert post(api.as_(service), [prediction() for _ in range(3)]).status_code == 201
    record_event("test.event", reason="a governance event")
    seal_all()
    predictions = LedgerEntry.objects.filter(kind="prediction").order_by("leaf__index")
    return [*predictions, GovernanceEvent.objects.get(event_type="test.event").entry]


@pytest.fixture
def purge_event(sealed) -> GovernanceEvent:
    """A ledger.purged event, as purge_expired writes first (not applied to any entry yet)."""
    return record_event("ledger.purged", after={"leaf_ranges": [[0, 0]]})


def execute(sql: str, params: list, purging: int | None = None) -> None:
    """Run ``sql``; on PostgreSQL as ``public.attest_purge`` does when it executes the purge
    ``purging`` (naming it in ``attest.purging``), so that the trigger's own check is tested."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql" and purging is not None:
            cursor.execute("SELECT set_config('attest.purging', %s, true)", [str(purging)])
        cursor.execute(sql, params)


def drop_payload(entry_id: int, purged_by: int | None, **changes) -> None:
    sets = ", ".join(["canonical = %s", "purged_by_id = %s", *(f"{c} = %s" for c in changes)])
    execute(
        f"UPDATE audit_ledgerentry SET {sets} WHERE id = %s",
        [b"", purged_by, *changes.values(), entry_id],
        purging=purged_by,
    )


def test_the_database_lets_a_recorded_purge_of_a_sealed_payload_through(sealed, purge_event):
    drop_payload(sealed[0].pk, purge_event.entry_id)
    entry = LedgerEntry.objects.get(pk=sealed[0].pk)
    assert bytes(entry.canonical) == b"" and bytes(entry.leaf_hash) == bytes(sealed[0].leaf_hash)


@pytest.mark.parametrize(
    "tamper",
    [
        "no purge event",
        "another event",
        "leaf hash changed",
        "kind changed",
        "payload rewritten",
        "governance event",
    ],
)
def test_the_database_refuses_every_other_update(sealed, purge_event, tamper):
    first, event_entry = sealed[0], sealed[3]
    with pytest.raises(DatabaseError, match="append-only"):
        if tamper == "no purge event":
            drop_payload(first.pk, None)
        elif tamper == "another event":
            drop_payload(first.pk, event_entry.pk)
        elif tamper == "leaf hash changed":
            drop_payload(first.pk, purge_event.entry_id, leaf_hash=b"\0" * 32)
        elif tamper == "kind changed":
            drop_payload(first.pk, purge_event.entry_id, kind="event")
        elif tamper == "payload rewritten":
            execute(
                "UPDATE audit_ledgerentry SET canonical = %s, purged_by_id = %s WHERE id = %s",
                [b'{"kind":"prediction"}', purge_event.entry_id, first.pk],
                purging=purge_event.entry_id,
            )
        else:
            drop_payload(event_entry.pk, purge_event.entry_id)
    assert bytes(LedgerEntry.objects.get(pk=first.pk).canonical) == bytes(first.canonical)


def test_on_postgresql_only_the_purge_named_by_attest_purge_gets_through(sealed, purge_event):
    if connection.vendor != "postgresql":
        pytest.skip("attest_purge and its setting exist only on PostgreSQL")
    with pytest.raises(DatabaseError, match="append-only"):
        execute(
            "UPDATE audit_ledgerentry SET canonical = %s, purged_by_id = %s WHERE id = %s",
            [b"", purge_event.entry_id, sealed[0].pk],
        )
    assert bytes(LedgerEntry.objects.get(pk=sealed[0].pk).canonical) == bytes(sealed[0].canonical)


def test_an_unsealed_entry_cannot_be_purged(sealed, purge_event):
    receipt = ingest_predictions([prediction()])[0]
    with pytest.raises(DatabaseError, match="append-only"):
        drop_payload(receipt.entry_id, purge_event.entry_id)


def test_a_purged_payload_cannot_be_put_back_nor_the_row_deleted(sealed, purge_event):
    drop_payload(sealed[0].pk, purge_event.entry_id)
    with pytest.raises(DatabaseError, match="append-only"):
        execute(
            "UPDATE audit_ledgerentry SET canonical = %s, purged_by_id = NULL WHERE id = %s",
            [bytes(sealed[0].canonical), sealed[0].pk],
        )
    with pytest.raises(DatabaseError, match="append-only"):
        execute("DELETE FROM audit_ledgerentry WHERE id = %s", [sealed[0].pk])


# ---------------------------------------------------------------------------- the verifier


@pytest.fixture
def purged_export(sealed, tmp_path) -> Path:
    purge_at_seven_months()
    export_ledger(tmp_path)
    assert verify_directory(tmp_path).ok
    return tmp_path


def purge_at_seven_months():
    with time_machine.travel(timezone.now() + dt.timedelta(days=31 * 7)):
        return purge_expired()


def leaf(entry: LedgerEntry) -> int:
    return Leaf.objects.get(entry=entry).index


@pytest.fixture
def purge_leaf(purged_export) -> int:
    return leaf(GovernanceEvent.objects.get(event_type="ledger.purged").entry)


def rewrite_line(directory: Path, index: int, line: bytes) -> None:
    path = directory / "entries.jsonl"
    lines = path.read_bytes().split(b"\n")
    lines[index] = line
    path.write_bytes(b"\n".join(lines))


def marker(by_leaf: int | str) -> bytes:
    return b'{"purged":{"by_leaf":%s}}' % str(by_leaf).encode()


def test_the_export_names_each_purged_entrys_purge_event(sealed, purged_export, purge_leaf):
    lines = (purged_export / "entries.jsonl").read_bytes().split(b"\n")
    assert [lines[leaf(e)] for e in sealed[:3]] == [marker(purge_leaf)] * 3
    assert json.loads(lines[purge_leaf])["event_type"] == "ledger.purged"


def test_the_verifier_catches_a_payload_dropped_without_a_purge(sealed, purged_export, purge_leaf):
    event = leaf(sealed[3])  # test.event, after the predictions: no purge lists it
    rewrite_line(purged_export, event, marker(purge_leaf))
    result = verify_directory(purged_export)
    assert not result.ok and result.first_bad_entry == event
    assert "does not list it" in result.message


def test_the_verifier_catches_a_marker_naming_no_purge_event(sealed, purged_export):
    rewrite_line(purged_export, leaf(sealed[0]), marker(leaf(sealed[3])))  # names test.event
    result = verify_directory(purged_export)
    assert not result.ok and "no ledger.purged event" in result.message


@pytest.mark.parametrize("by_leaf", [0, "null", 10_000])
def test_the_verifier_catches_a_marker_naming_no_later_leaf(sealed, purged_export, by_leaf):
    index = leaf(sealed[1])
    rewrite_line(purged_export, index, marker(by_leaf))
    result = verify_directory(purged_export)
    assert not result.ok and result.first_bad_entry == index
