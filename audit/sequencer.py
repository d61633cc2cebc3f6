"""The sequencer: gives acknowledged entries their leaf index and signs checkpoints.

One sequencer at a time per log (a row lock on ``SequencerState`` elects it). Each round, in
one transaction: take the entries that are final and not yet sequenced, in a deterministic
order; append them to the Merkle frontier; store the completed subtrees; sign a checkpoint.

"Final" matters on PostgreSQL: ids come from a sequence and commit out of order, so an entry
with a smaller id can become visible after a larger one, and a reader that keeps "id > last
seen" would skip it. Every transaction that writes entries holds an advisory lock in shared
mode (``LEDGER_WRITE_LOCK``); the sequencer takes it exclusively just while it reads what is
pending. At that moment no writer is in flight, and every id allocated later is larger, so
"id > watermark" is exact. Writers wait only for that one read. SQLite has a single writer,
which commits in id order.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from audit import merkle
from audit.canonical import canonical_json
from compliance.models import PredictionVolume

from . import rawsql, signing
from .models import (
    LEDGER_WRITE_LOCK,
    Checkpoint,
    Leaf,
    LedgerEntry,
    SequencerState,
    TreeNode,
    node_key,
)

log = logging.getLogger(__name__)

BATCH = 20_000


@dataclass(frozen=True)
class Sealed:
    sequenced: int
    checkpoint: Checkpoint | None


def _final_entries(state: SequencerState, limit: int) -> list[tuple[int, bytes]]:
    """(id, leaf hash) of committed, unsequenced entries, in id order."""
    pending = "SELECT id, leaf_hash FROM audit_ledgerentry WHERE id > %s ORDER BY id LIMIT %s"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_lock(%s)", [LEDGER_WRITE_LOCK])
            try:
                cursor.execute(pending, [state.watermark_id, limit])
                rows = cursor.fetchall()
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LEDGER_WRITE_LOCK])
        else:
            cursor.execute(pending, [state.watermark_id, limit])
            rows = cursor.fetchall()
    return [(pk, bytes(h)) for pk, h in rows]


def seal_pending(limit: int = BATCH) -> Sealed:
    """Sequence what is pending (up to ``limit`` entries) and sign a checkpoint for it."""
    with transaction.atomic():
        SequencerState.objects.get_or_create(pk=1)
        state = SequencerState.objects.select_for_update().get(pk=1)
        rows = _final_entries(state, limit)
        if not rows:
            return Sealed(0, None)
        frontier = (
            merkle.Frontier.from_dict(state.frontier) if state.frontier else merkle.Frontier()
        )
        leaves, nodes = [], []
        for entry_id, leaf_hash in rows:
            leaves.append((frontier.size, entry_id))
            for level, index, digest in frontier.append(leaf_hash):
                nodes.append((node_key(level, index), digest))
        rawsql.insert(Leaf, ("index", "entry_id"), leaves)
        rawsql.insert(TreeNode, ("key", "hash"), nodes)
        # The dashboard's per-day volumes count each prediction as it is sealed, exactly once.
        PredictionVolume.add_sealed(state.watermark_id, rows[-1][0])
        state.tree_size = frontier.size
        state.frontier = frontier.to_dict()
        state.watermark_id = rows[-1][0]
        state.save()
        checkpoint = issue_checkpoint(frontier.size, frontier.root())
    return Sealed(len(rows), checkpoint)


def issue_checkpoint(tree_size: int, root: bytes) -> Checkpoint:
    """Sign the tree in both forms, the JSON statement and the C2SP note, and store them."""
    checkpoint = Checkpoint(
        tree_size=tree_size,
        root_hash=root,
        issued_at=timezone.now(),
        log_id=settings.LEDGER_LOG_ID,
        key_id=signing.key_id(),
    )
    checkpoint.signature = signing.sign(canonical_json(checkpoint.statement()))
    checkpoint.note = signing.sign_checkpoint_note(tree_size, root)
    checkpoint.save()
    return checkpoint


def starved(older_than: dt.datetime, show: int = 10) -> tuple[int, list[int]]:
    """Committed entries received before ``older_than`` that no signed checkpoint covers: how
    many, and the first ``show`` ids. Judged by the leaves and checkpoints themselves, not by
    the sequencer's watermark, which is what a starving attack would move."""
    latest = Checkpoint.objects.order_by("-tree_size").values_list("tree_size", flat=True)
    size = latest.first() or 0
    entries = LedgerEntry.objects.filter(received_at__lt=older_than).filter(
        Q(leaf__isnull=True) | Q(leaf__index__gte=size)
    )
    ids = list(entries.order_by("pk").values_list("pk", flat=True)[:show])
    return (entries.count() if len(ids) == show else len(ids)), ids


def seal_time(entry: LedgerEntry) -> dt.datetime | None:
    """When the entry was first sealed: the issue time of the first checkpoint covering its
    leaf (the sequencer's signed clock, which purges are judged by); None while pending."""
    leaf = Leaf.objects.filter(entry=entry).values_list("index", flat=True).first()
    if leaf is None:
        return None
    return (
        Checkpoint.objects.filter(tree_size__gt=leaf)
        .order_by("tree_size")
        .values_list("issued_at", flat=True)
        .first()
    )


def may_seal() -> bool:
    """Whether this connection may seal (on PostgreSQL only the sequencer's role may)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege('public.audit_checkpoint', 'INSERT')")
        return cursor.fetchone()[0]


class NotSealed(Exception):
    """An entry was still in no checkpoint when the wait for it ended."""


def await_sealed(entry_id: int, timeout: float = 60.0) -> None:
    """Return once a signed checkpoint covers the entry: sealing here when this connection may
    (the embedded default, tests), else waiting for ``run_sequencer``."""
    deadline, here = time.monotonic() + timeout, may_seal()
    while True:
        if here:
            seal_all()
        if seal_time(LedgerEntry(pk=entry_id)) is not None:
            return
        if time.monotonic() > deadline:
            raise NotSealed(
                f"entry {entry_id} is in no checkpoint after {timeout:.0f} s: is run_sequencer "
                "running?"
            )
        time.sleep(0.2)


def seal_all() -> int:
    """Sequence everything pending now; the number of entries sequenced."""
    total = 0
    while True:
        sealed = seal_pending()
        total += sealed.sequenced
        if sealed.sequenced < BATCH:
            return total


def run(interval: float = 0.2, stop_after: float | None = None) -> None:
    """Seal pending entries every ``interval`` seconds, for ever (or ``stop_after`` seconds)."""
    started = time.monotonic()
    while stop_after is None or time.monotonic() - started < stop_after:
        try:
            sealed = seal_pending()
        except Exception:
            log.exception("Sequencer round failed; retrying")
            connection.close()
            time.sleep(1)
            continue
        if sealed.checkpoint is not None:
            log.info(
                "Sealed %d entries; tree size %d", sealed.sequenced, sealed.checkpoint.tree_size
            )
        if sealed.sequenced < BATCH:
            time.sleep(interval)


# ---------------------------------------------------------------------------- proofs


def _nodes(needed: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    keys = {node_key(level, index): (level, index) for level, index in needed}
    return {
        keys[node.key]: bytes(node.hash) for node in TreeNode.objects.filter(key__in=list(keys))
    }


def inclusion_proof(leaf_index: int, tree_size: int) -> list[bytes]:
    needed = merkle.nodes_covering(merkle.inclusion_ranges(leaf_index, tree_size))
    return merkle.inclusion_proof(leaf_index, tree_size, _nodes(needed))


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    needed = merkle.nodes_covering(merkle.consistency_ranges(old_size, new_size))
    return merkle.consistency_proof(old_size, new_size, _nodes(needed))


def receipt(entry: LedgerEntry) -> dict | None:
    """The entry's inclusion proof against the latest checkpoint, or None while pending."""
    leaf = Leaf.objects.filter(entry=entry).first()
    checkpoint = Checkpoint.objects.order_by("-tree_size").first()
    if leaf is None or checkpoint is None or checkpoint.tree_size <= leaf.index:
        return None
    proof = inclusion_proof(leaf.index, checkpoint.tree_size)
    return {
        "entry_id": entry.pk,
        "leaf_index": leaf.index,
        "leaf_hash": bytes(entry.leaf_hash).hex(),
        "canonical": base64.b64encode(bytes(entry.canonical)).decode(),
        "inclusion_proof": [h.hex() for h in proof],
        "checkpoint": checkpoint.signed(),
    }
