"""Export the ledger in the format the standalone verifier reads (``python -m audit.verify``).

``entries.jsonl``: line i is exactly the canonical bytes of leaf i. ``leaf_hashes.txt``: the
leaf hashes as the log recorded them. ``checkpoints.jsonl``: every signed checkpoint.
``public_key.pem``: the log's public key (an auditor should also obtain it independently).
"""

from __future__ import annotations

import json
from pathlib import Path

from . import signing
from .models import Checkpoint, Leaf


def export_ledger(directory: Path, up_to: int | None = None) -> tuple[int, int | None]:
    """Write the sequenced ledger (the first ``up_to`` leaves) to ``directory``.

    Returns the number of entries written and the first missing leaf index, if any. Missing
    leaves are not an export error: the verifier reports what they break.
    """
    directory.mkdir(parents=True, exist_ok=True)
    leaves = Leaf.objects.order_by("index").values_list(
        "index", "entry__canonical", "entry__leaf_hash"
    )
    if up_to is not None:
        leaves = leaves.filter(index__lt=up_to)
    count, first_gap = 0, None
    with (
        (directory / "entries.jsonl").open("wb") as entries,
        (directory / "leaf_hashes.txt").open("w") as hashes,
    ):
        for index, canonical, leaf_hash in leaves.iterator(chunk_size=5000):
            if index != count and first_gap is None:
                first_gap = count
            entries.write(bytes(canonical) + b"\n")
            hashes.write(bytes(leaf_hash).hex() + "\n")
            count += 1
    checkpoints = Checkpoint.objects.order_by("tree_size")
    if up_to is not None:
        checkpoints = checkpoints.filter(tree_size__lte=up_to)
    with (directory / "checkpoints.jsonl").open("w") as out:
        for checkpoint in checkpoints.iterator():
            out.write(json.dumps(checkpoint.signed(), sort_keys=True) + "\n")
    (directory / "public_key.pem").write_bytes(signing.public_key_pem())
    return count, first_gap
