"""RFC 6962 / RFC 9162 Merkle tree: hashing, proofs from stored nodes, verification.

Pure Python (stdlib only, no Django) so the standalone verifier can use it as is.

Vocabulary used throughout:

* A *leaf hash* is ``SHA-256(0x00 || data)``; an interior hash is ``SHA-256(0x01 || L || R)``.
* The Merkle Tree Hash (MTH) of ``n`` leaves splits them at ``k``, the largest power of two
  smaller than ``n``: ``MTH(D[0:n]) = H(0x01 || MTH(D[0:k]) || MTH(D[k:n]))``.
* A *node* ``(level, index)`` is the perfect subtree over leaves
  ``[index * 2**level, (index + 1) * 2**level)``. Level 0 nodes are the leaf hashes. The
  sequencer stores every node once all of its leaves exist, and never changes it again.
* A *range* ``(start, end)`` is the half-open interval of leaf indices ``[start, end)``.

Every hash in an RFC 6962 proof is the MTH of a range of the bigger tree. Those ranges are
either perfect nodes or sit on the tree's right edge, so each is the right fold of the
stored nodes that tile it (see ``range_hash``). A database can therefore answer any proof with
one query: compute the ranges, ask for ``nodes_covering(ranges)``, then combine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # (start, end): leaves start .. end - 1


# --- Hashing ---------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 hash of one leaf: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 hash of an interior node: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The RFC 6962 split point of ``n >= 2`` leaves: the largest power of two below ``n``."""
    return 1 << ((n - 1).bit_length() - 1)


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    """Combine ``[a, b, c]`` into ``H(a, H(b, c))``: the MTH of the ranges they cover, when
    those ranges are consecutive perfect subtrees of strictly decreasing size."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash of a list of leaf hashes (the reference implementation).

    Runs in O(n) time and O(log n) memory, so it is fine for millions of leaves.
    """
    stack: list[tuple[int, bytes]] = []  # (leaf count, hash) of perfect subtrees, left to right
    for h in hashes:
        count, node = 1, h
        while stack and stack[-1][0] == count:  # two equal neighbours make a bigger subtree
            node = node_hash(stack.pop()[1], node)
            count *= 2
        stack.append((count, node))
    return _fold_right([node for _, node in stack]) if stack else EMPTY_ROOT


# --- The frontier: what the sequencer keeps between appends ------------------------------------


class Frontier:
    """The right edge of a growing tree: its size and the hashes of the perfect subtrees that
    tile leaves ``[0, size)``, largest (leftmost) first. One hash per set bit of ``size``.

    This is all that is needed to append leaves and compute the root (a "compact range").

    >>> f = Frontier()
    >>> [(level, index) for level, index, _ in f.append(leaf_hash(b"a"))]
    [(0, 0)]
    >>> [(level, index) for level, index, _ in f.append(leaf_hash(b"b"))]
    [(0, 1), (1, 0)]
    >>> f.root() == node_hash(leaf_hash(b"a"), leaf_hash(b"b"))
    True
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        _check_ints(size)
        if size < 0:
            raise ValueError(f"tree size must not be negative, got {size}")
        if len(hashes) != size.bit_count():
            raise ValueError(f"a tree of size {size} has {size.bit_count()} frontier hashes")
        for h in hashes:
            _check_hash(h)
        self._size = size
        self._hashes = list(hashes)

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Hashes of the nodes ``perfect_nodes(0, size)``, left to right."""
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash; return the nodes it completes as ``(level, index, hash)``.

        The first item is the leaf itself (level 0); each further item is its parent, for as
        long as the parent's subtree became complete. Store them all.
        """
        _check_hash(leaf)
        index = self._size
        completed = [(0, index, leaf)]
        h = leaf
        level = 0
        while (index >> level) & 1:  # the new node is a right child: merge with its sibling
            h = node_hash(self._hashes.pop(), h)
            level += 1
            completed.append((level, index >> level, h))
        self._hashes.append(h)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """Return the Merkle Tree Hash of the leaves appended so far."""
        return _fold_right(self._hashes) if self._hashes else EMPTY_ROOT

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable form: ``{"size": n, "hashes": [hex, ...]}``."""
        return {"size": self._size, "hashes": [h.hex() for h in self._hashes]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Frontier:
        """Rebuild a frontier from ``to_dict()`` output; raises ValueError if inconsistent."""
        return cls(data["size"], [bytes.fromhex(h) for h in data["hashes"]])

    @classmethod
    def from_nodes(cls, size: int, nodes: Mapping[Node, bytes]) -> Frontier:
        """Rebuild the frontier of the tree of ``size`` leaves from its stored nodes.

        It needs the nodes ``perfect_nodes(0, size)`` (one per set bit of ``size``), keyed by
        ``(level, index)``: fetch them in one query. Raises KeyError if one is missing.
        """
        return cls(size, [nodes[node] for node in perfect_nodes(0, size)])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frontier):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, root={self.root().hex()})"


# --- Which stored nodes make up a proof ---------------------------------------------------------


def perfect_nodes(start: int, end: int) -> list[Node]:
    """Split leaves ``[start, end)`` into the fewest perfect nodes, left to right.

    >>> perfect_nodes(0, 7)
    [(2, 0), (1, 2), (0, 6)]
    >>> perfect_nodes(3, 8)
    [(0, 3), (2, 1)]
    """
    if not 0 <= start <= end:
        raise ValueError(f"not a leaf range: [{start}, {end})")
    nodes = []
    while start < end:
        # The biggest node starting here is limited by start's alignment and by the range end.
        size = start & -start if start else 1 << (end.bit_length() - 1)
        while start + size > end:
            size >>= 1
        level = size.bit_length() - 1
        nodes.append((level, start >> level))
        start += size
    return nodes


def nodes_covering(ranges: Iterable[Range]) -> list[Node]:
    """All nodes needed to compute the hashes of ``ranges``: the one query a database runs."""
    return [node for start, end in ranges for node in perfect_nodes(start, end)]


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Leaf ranges whose hashes form the audit path of leaf ``index`` in a tree of ``size``.

    Ordered as RFC 6962 §2.1.1 / RFC 9162 §2.1.3.1 list them: from the leaf's sibling up to
    the root's other child.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    ranges = []
    start, end = 0, size
    while end - start > 1:  # walk down from the root towards the leaf
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """Leaf ranges whose hashes form the consistency proof from ``old_size`` to ``new_size``.

    Ordered as RFC 6962 §2.1.2 / RFC 9162 §2.1.4.1 list them. Empty when the old tree is
    empty or the sizes are equal.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    ranges = []
    start, end = 0, new_size
    old_tree_is_a_whole_subtree = True  # RFC 6962's flag "b" in SUBPROOF(m, D[n], b)
    while old_size - start != end - start:
        k = _split(end - start)
        if old_size - start <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            old_tree_is_a_whole_subtree = False
    if not old_tree_is_a_whole_subtree:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


# --- Proofs --------------------------------------------------------------------------------------


def range_hash(start: int, end: int, nodes: Mapping[Node, bytes]) -> bytes:
    """Return the MTH of leaves ``[start, end)`` from stored perfect nodes.

    The range must be a subtree of some RFC 6962 tree: ``start`` is a multiple of the largest
    power of two not above ``end - start``. Every range in ``inclusion_ranges`` and
    ``consistency_ranges`` is one. Then the nodes tiling it have strictly decreasing sizes and
    the MTH is their right fold. (For other ranges, e.g. ``[1, 4)``, the MTH splits leaves
    ``1, 2 | 3`` while the stored nodes split them ``1 | 2, 3``, so it cannot be computed from
    them; this raises ValueError.) Raises KeyError if a needed node is missing.
    """
    if not 0 <= start < end:
        raise ValueError(f"not a non-empty leaf range: [{start}, {end})")
    if start % (1 << ((end - start).bit_length() - 1)):
        raise ValueError(f"[{start}, {end}) is not a subtree of an RFC 6962 tree")
    return _fold_right([nodes[node] for node in perfect_nodes(start, end)])


def inclusion_proof(index: int, size: int, nodes: Mapping[Node, bytes]) -> list[bytes]:
    """Return the audit path of leaf ``index`` in the tree of ``size`` leaves."""
    return [range_hash(start, end, nodes) for start, end in inclusion_ranges(index, size)]


def consistency_proof(old_size: int, new_size: int, nodes: Mapping[Node, bytes]) -> list[bytes]:
    """Return the consistency proof between the trees of ``old_size`` and ``new_size``."""
    return [range_hash(s, e, nodes) for s, e in consistency_ranges(old_size, new_size)]


def inclusion_proof_from_leaves(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Audit path of leaf ``index`` in the tree of all ``leaf_hashes`` (for small trees)."""
    return [
        root_from_leaf_hashes(leaf_hashes[start:end])
        for start, end in inclusion_ranges(index, len(leaf_hashes))
    ]


def consistency_proof_from_leaves(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Consistency proof from ``old_size`` to the tree of all ``leaf_hashes`` (small trees)."""
    return [
        root_from_leaf_hashes(leaf_hashes[start:end])
        for start, end in consistency_ranges(old_size, len(leaf_hashes))
    ]


# --- Verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ---------------------------------------------


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check that ``leaf`` is leaf number ``index`` of the tree of ``size`` leaves with ``root``.

    Returns False for any proof that does not verify, including impossible indices and sizes
    and hashes of the wrong length. Raises TypeError only if an argument has the wrong type.
    """
    _check_ints(index, size)
    proof = list(proof)
    hashes = [leaf, root, *proof]
    _check_bytes(hashes)
    if not 0 <= index < size or any(len(h) != HASH_SIZE for h in hashes):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:  # the proof is longer than the path to the root
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:  # skip levels where this node has no right sibling
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check that the tree of ``new_size`` leaves with ``new_root`` extends the tree of
    ``old_size`` leaves with ``old_root`` (appended to, nothing changed).

    Equal sizes need equal roots and an empty proof. An empty old tree needs the empty root
    (``EMPTY_ROOT``) and an empty proof. Returns False for anything that does not verify;
    raises TypeError only if an argument has the wrong type.
    """
    _check_ints(old_size, new_size)
    proof = list(proof)
    hashes = [old_root, new_root, *proof]
    _check_bytes(hashes)
    if not 0 <= old_size <= new_size or any(len(h) != HASH_SIZE for h in hashes):
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT and (new_size > 0 or new_root == EMPTY_ROOT)
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is a node of the new one: not in the proof
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


# --- Argument checks -----------------------------------------------------------------------------


def _check_hash(h: object) -> None:
    if not isinstance(h, bytes):
        raise TypeError(f"a hash must be bytes, got {type(h).__name__}")
    if len(h) != HASH_SIZE:
        raise ValueError(f"a hash is {HASH_SIZE} bytes, got {len(h)}")


def _check_ints(*values: object) -> None:
    for value in values:
        if not isinstance(value, int):
            raise TypeError(f"a tree size or index must be an int, got {type(value).__name__}")


def _check_bytes(values: Iterable[object]) -> None:
    for value in values:
        if not isinstance(value, bytes):
            raise TypeError(f"a hash must be bytes, got {type(value).__name__}")
