"""Export the ledger in the format the standalone verifier reads (``python -m audit.verify``).

``entries.jsonl``: line i is exactly the canonical bytes of leaf i. ``leaf_hashes.txt``: the
leaf hashes as the log recorded them. A payload purged past retention is written as
``{"purged":{"by_leaf":N}}``, N being the leaf of its ``ledger.purged`` event.
``checkpoints.jsonl``: every signed checkpoint.
``projections/<table>.jsonl``: the rows that reports read, which the verifier rebuilds from the
entries (``audit.projections``): a first line naming the rule, then one row a line; the rows
of entry projections by leaf index (``{"leaf", "pk", "columns"}``), those of the registered
governance tables by primary key (``{"pk", "fields"}``).
``checkpoint_notes.jsonl``: the same checkpoints as C2SP signed notes, as issued, one JSON line
``{"tree_size": N, "note": text}`` each (those issued before notes existed have none);
``checkpoint.note``: the last of them as a plain file, for signed-note tools.
``public_key.pem``: the log's public key (an auditor should also obtain it independently);
``public_key.vkey``: the same key as the signed-note verifier key.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

from django.db import connection, transaction

from . import signing, state
from .ledger import iso
from .models import (
    Checkpoint,
    ExplanationRecord,
    GovernanceEvent,
    OutcomeRecord,
    PredictionRecord,
    SensitiveAttributes,
)
from .projections import KIND_TABLES, SENSITIVE_TABLE

# The purge event's leaf is looked up only for the (few) purged entries.
LEAVES_SQL = (
    'SELECT l."index", e.canonical, e.leaf_hash, CASE WHEN e.purged_by_id IS NULL THEN NULL '
    'ELSE coalesce((SELECT p."index" FROM audit_leaf p WHERE p.entry_id = e.purged_by_id), -1) '
    'END FROM audit_leaf l JOIN audit_ledgerentry e ON e.id = l.entry_id {where} ORDER BY l."index"'
)


def _leaves(up_to: int | None):
    """(index, canonical bytes, leaf hash, purge event's leaf) in leaf order, streamed.

    On PostgreSQL a server-side cursor in binary mode: ``bytea`` then arrives as bytes, not as
    hex text to decode, which makes a million-entry export several times faster.
    """
    where = 'WHERE l."index" < %s' if up_to is not None else ""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(LEAVES_SQL.format(where=where), [up_to] if up_to is not None else [])
            while rows := cursor.fetchmany(5000):
                yield from rows
        return
    with transaction.atomic():
        with connection.cursor() as cursor:  # compiling the plan (JIT) costs more than it saves
            cursor.execute("SET LOCAL jit = off")
        with connection.connection.cursor(name="attest_export", binary=True) as cursor:
            cursor.itersize = 20_000
            cursor.execute(LEAVES_SQL.format(where=where), [up_to] if up_to is not None else [])
            yield from cursor


def export_ledger(
    directory: Path, up_to: int | None = None, *, projections: bool = True
) -> tuple[int, int | None]:
    """Write the sequenced ledger (the first ``up_to`` leaves) to ``directory``, and with
    ``projections`` the rows the verifier rebuilds from it.

    Returns the number of entries written and the first missing leaf index, if any. Missing
    leaves are not an export error: the verifier reports what they break.
    """
    directory.mkdir(parents=True, exist_ok=True)
    count, first_gap = 0, None
    with (
        (directory / "entries.jsonl").open("wb") as entries,
        (directory / "leaf_hashes.txt").open("w") as hashes,
    ):
        for index, canonical, leaf_hash, purged_by in _leaves(up_to):
            if index != count and first_gap is None:
                first_gap = count
            if purged_by is not None:  # -1: the purge event is not sealed yet
                canonical = (
                    b'{"purged":{"by_leaf":%d}}' % purged_by
                    if purged_by >= 0
                    else (b'{"purged":{"by_leaf":null}}')
                )
            entries.write(canonical)
            entries.write(b"\n")
            hashes.write(leaf_hash.hex())
            hashes.write("\n")
            count += 1
    checkpoints = Checkpoint.objects.order_by("tree_size")
    if up_to is not None:
        checkpoints = checkpoints.filter(tree_size__lte=up_to)
    last_note = None
    with (
        (directory / "checkpoints.jsonl").open("w") as out,
        (directory / "checkpoint_notes.jsonl").open("w") as notes,
    ):
        for checkpoint in checkpoints.iterator():
            out.write(json.dumps(checkpoint.signed(), sort_keys=True) + "\n")
            if checkpoint.note is not None:
                line = {"tree_size": checkpoint.tree_size, "note": checkpoint.note}
                notes.write(json.dumps(line, sort_keys=True) + "\n")
                last_note = checkpoint.note
    if last_note is not None:
        (directory / "checkpoint.note").write_text(last_note, encoding="utf-8")
    (directory / "public_key.pem").write_bytes(signing.public_key_pem())
    if projections:
        export_projections(directory / "projections", up_to)
    (directory / "public_key.vkey").write_text(signing.verifier_key() + "\n")
    return count, first_gap


# What each entry projection's file holds: the stored columns, by the names the derivations of
# ``audit.projections`` give them, read with the leaf index of the row's entry.
ENTRY_PROJECTIONS = {
    KIND_TABLES["event"]: (
        GovernanceEvent,
        {
            "event_type": "event_type",
            "occurred_at": "occurred_at",
            "actor_id": "actor_id",
            "actor_name": "actor_name",
            "model_id": "model_id",
            "object_type": "object_type",
            "object_id": "object_id",
            "object_repr": "object_repr",
            "before": "before",
            "after": "after",
            "reason": "reason",
        },
    ),
    KIND_TABLES["prediction"]: (
        PredictionRecord,
        {
            "event_id": "event_id",
            "version_id": "version_id",
            "decided_at": "decided_at",
            "received_at": "received_at",
            "environment": "environment",
            "score": "score",
            "favourable": "favourable",
            "schema_violation": "schema_violation",
            "unapproved_version": "unapproved_version",
            "content_sha256": "content_sha256",
            "subject": "subject__reference",
        },
    ),
    KIND_TABLES["outcome"]: (
        OutcomeRecord,
        {
            "outcome_id": "outcome_id",
            "prediction": "prediction__event_id",
            "label": "label",
            "observed_at": "observed_at",
            "received_at": "received_at",
            "corrects": "corrects__outcome_id",
            "content_sha256": "content_sha256",
        },
    ),
    KIND_TABLES["explanation"]: (
        ExplanationRecord,
        {
            "prediction": "prediction__event_id",
            "prediction_leaf": "prediction__entry__leaf__index",
            "version_id": "version_id",
            "computed_at": "computed_at",
            "status": "status",
            "method": "method",
            "output_space": "output_space",
            "base_value": "base_value",
            "model_output": "model_output",
            "contributions": "contributions",
            "additivity_error": "additivity_error",
            "additive": "additive",
            "note": "note",
            "decided_at": "decided_at",
            "prediction_decided_at": "prediction__decided_at",
        },
    ),
    SENSITIVE_TABLE: (
        SensitiveAttributes,
        {"values": "values", "salt": "salt"},
    ),
}
CHUNK = 10_000


def _json(value):
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def export_projections(directory: Path, up_to: int | None = None) -> None:
    """Write every entry projection's rows in leaf order (rows of entries not yet sealed are
    left out: the verifier can only judge them once they are), and every registered
    governance table's rows."""
    directory.mkdir(parents=True, exist_ok=True)
    for table, (model, columns) in ENTRY_PROJECTIONS.items():
        leaf = "entry__leaf__index"
        if model is SensitiveAttributes:
            leaf = "prediction__" + leaf
        rows = model.objects.filter(**{f"{leaf}__isnull": False})
        if up_to is not None:
            rows = rows.filter(**{f"{leaf}__lt": up_to})
        names = list(columns)
        values = rows.order_by(leaf).values_list(leaf, "pk", *columns.values())
        with (directory / f"{table}.jsonl").open("w") as out:
            out.write(json.dumps({"rule": "entries", "table": table}) + "\n")
            for index, pk, *stored in values.iterator(chunk_size=CHUNK):
                columns_of = dict(zip(names, map(_json, stored), strict=True))
                out.write(json.dumps({"leaf": index, "pk": pk, "columns": columns_of}) + "\n")
    for registered in state.registered():
        with (directory / f"{registered.rule.table}.jsonl").open("w") as out:
            out.write(json.dumps(registered.rule.to_json()) + "\n")
            for obj in registered.model._default_manager.order_by("pk").iterator(CHUNK):
                out.write(json.dumps({"pk": obj.pk, "fields": registered.row(obj)}) + "\n")
