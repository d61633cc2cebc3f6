from __future__ import annotations

import json
from itertools import pairwise

import pytest

from audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    consistency_proof_from_leaves,
    consistency_ranges,
    inclusion_proof,
    inclusion_proof_from_leaves,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    perfect_nodes,
    range_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# Published test vectors, copied from transparency-dev/merkle, file proof/verify_test.go (they
# descend from google/certificate-transparency's merkle_tree_test.cc). The Go file numbers
# leaves from 1 in its inclusion vectors; the indices below are 0-based.
LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657"]
    + ["606162636465666768696a6b6c6d6e6f"]
]
ROOTS = {  # tree size -> root
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
INCLUSION_PROOFS = {  # (index, size) -> audit path
    (0, 1): [],
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
CONSISTENCY_PROOFS = {  # (old size, new size) -> proof
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
    (6, 7): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CT_LEAF_HASHES = [leaf_hash(data) for data in LEAVES]


# The RFC 6962 §2.1 definitions transcribed literally (recursion on slices): the reference.
def split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def mth(d: list[bytes]) -> bytes:
    if len(d) <= 1:
        return d[0] if d else EMPTY_ROOT
    k = split(len(d))
    return node_hash(mth(d[:k]), mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = split(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool = True) -> list[bytes]:
    if m == len(d):
        return [] if b else [mth(d)]
    k = split(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def stored_nodes(hashes: list[bytes]) -> dict[tuple[int, int], bytes]:
    """What the sequencer's node table holds after appending ``hashes``."""
    frontier = Frontier()
    return {(lvl, i): h for leaf in hashes for lvl, i, h in frontier.append(leaf)}


def flip(h: bytes, position: int = 0) -> bytes:
    return h[:position] + bytes([h[position] ^ 0x10]) + h[position + 1 :]


def unhex(hashes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hashes]


def test_the_hashes_match_the_published_rfc6962_vectors() -> None:
    # transparency-dev/merkle, rfc6962/rfc6962_test.go
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"").hex() == ROOTS[1]
    leaf, node = leaf_hash(b"L123456").hex(), node_hash(b"N123", b"N456").hex()
    assert leaf == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert node == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"


@pytest.mark.parametrize("size", ROOTS)
def test_the_roots_match_the_published_vectors(size: int) -> None:
    assert root_from_leaf_hashes(CT_LEAF_HASHES[:size]).hex() == ROOTS[size]
    assert Frontier.from_nodes(size, stored_nodes(CT_LEAF_HASHES)).root().hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size"), INCLUSION_PROOFS)
def test_the_inclusion_proofs_match_the_published_vectors(index: int, size: int) -> None:
    expected = unhex(INCLUSION_PROOFS[index, size])
    assert inclusion_proof(index, size, stored_nodes(CT_LEAF_HASHES)) == expected
    assert inclusion_proof_from_leaves(index, CT_LEAF_HASHES[:size]) == expected
    root = bytes.fromhex(ROOTS[size])
    assert verify_inclusion(CT_LEAF_HASHES[index], index, size, expected, root)


@pytest.mark.parametrize(("old", "new"), CONSISTENCY_PROOFS)
def test_the_consistency_proofs_match_the_published_vectors(old: int, new: int) -> None:
    expected = unhex(CONSISTENCY_PROOFS[old, new])
    assert consistency_proof(old, new, stored_nodes(CT_LEAF_HASHES)) == expected
    assert consistency_proof_from_leaves(old, CT_LEAF_HASHES[:new]) == expected
    old_root, new_root = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new])
    assert verify_consistency(old, new, old_root, new_root, expected)


def test_proof_ranges_match_the_worked_examples_of_transparency_dev() -> None:
    # transparency-dev/merkle, proof/proof_test.go (tree of 7 leaves: g=[0,2) k=[0,4) l=[4,7)).
    assert inclusion_ranges(0, 7) == [(1, 2), (2, 4), (4, 7)]  # b h l
    assert inclusion_ranges(6, 7) == [(4, 6), (0, 4)]  # i k
    assert consistency_ranges(5, 7) == [(4, 5), (5, 6), (6, 7), (0, 4)]  # e f j k
    assert consistency_ranges(3, 7) == [(2, 3), (3, 4), (0, 2), (4, 7)]  # c d g l
    assert consistency_ranges(4, 7) == [(4, 7)]  # l


def test_perfect_nodes_tile_a_range_with_the_fewest_aligned_subtrees() -> None:
    assert perfect_nodes(0, 0) == []
    assert perfect_nodes(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert perfect_nodes(5, 16) == [(0, 5), (1, 3), (3, 1)]
    for start in range(40):
        for end in range(start, 41):
            nodes = perfect_nodes(start, end)
            covered = [i for lvl, idx in nodes for i in range(idx << lvl, (idx + 1) << lvl)]
            assert covered == list(range(start, end))
            mergeable = [a for a, b in pairwise(nodes) if a[0] == b[0] and a[1] % 2 == 0]
            assert mergeable == []


def test_range_hash_is_the_mth_of_any_subtree_range_and_refuses_other_ranges() -> None:
    hashes = leaves(40)
    nodes = stored_nodes(hashes)
    for start in range(40):
        for end in range(start + 1, 41):
            if start % split(end - start + 1) == 0:  # start aligned to the top of the subtree
                assert range_hash(start, end, nodes) == mth(hashes[start:end])
            else:
                with pytest.raises(ValueError):
                    range_hash(start, end, nodes)


def test_inclusion_proofs_from_nodes_follow_the_rfc_and_verify() -> None:
    for size in range(1, 71):
        hashes = leaves(size)
        nodes, root = stored_nodes(hashes), mth(hashes)
        for index in range(size):
            proof = inclusion_proof(index, size, nodes)
            assert proof == inclusion_proof_from_leaves(index, hashes) == path(index, hashes)
            assert verify_inclusion(hashes[index], index, size, proof, root)


def test_an_altered_inclusion_proof_does_not_verify() -> None:
    for size in range(1, 71):
        hashes = leaves(size)
        root = mth(hashes)
        for index in range(size):
            leaf, proof = hashes[index], inclusion_proof_from_leaves(index, hashes)
            assert not verify_inclusion(flip(leaf, index % 32), index, size, proof, root)
            assert not verify_inclusion(leaf, index, size, proof, flip(root, size % 32))
            for i in range(len(proof)):
                altered = proof[:i] + [flip(proof[i], i)] + proof[i + 1 :]
                assert not verify_inclusion(leaf, index, size, altered, root)
            for other in {index - 1, index + 1, index ^ 2} - {index}:
                assert not verify_inclusion(leaf, other, size, proof, root)
            for wrong_size in (size * 2, size // 2):
                assert not verify_inclusion(leaf, index, wrong_size, proof, root)
            for wrong_proof in (proof + [root], [root] + proof, proof[:-1], proof + [b""]):
                if wrong_proof != proof:
                    assert not verify_inclusion(leaf, index, size, wrong_proof, root)


def test_consistency_proofs_from_nodes_follow_the_rfc_and_verify() -> None:
    hashes = leaves(40)
    nodes = stored_nodes(hashes)
    for new in range(1, 41):
        for old in range(1, new + 1):
            proof = consistency_proof(old, new, nodes)
            assert proof == consistency_proof_from_leaves(old, hashes[:new])
            assert proof == subproof(old, hashes[:new])
            assert verify_consistency(old, new, mth(hashes[:old]), mth(hashes[:new]), proof)


def test_an_altered_consistency_proof_does_not_verify() -> None:
    hashes = leaves(40)
    for new in range(2, 41):
        for old in range(1, new):
            old_root, new_root = mth(hashes[:old]), mth(hashes[:new])
            proof = consistency_proof_from_leaves(old, hashes[:new])
            assert not verify_consistency(old, new, flip(old_root), new_root, proof)
            assert not verify_consistency(old, new, old_root, flip(new_root, 31), proof)
            assert not verify_consistency(old, new, new_root, old_root, proof)
            for i in range(len(proof)):
                altered = proof[:i] + [flip(proof[i], i)] + proof[i + 1 :]
                assert not verify_consistency(old, new, old_root, new_root, altered)
            for old2, new2 in [(old - 1, new), (old + 1, new), (old ^ 2, new), (old, new * 2)]:
                if (old2, new2) != (old, new):
                    assert not verify_consistency(old2, new2, old_root, new_root, proof)
            for wrong in ([], proof[:-1], proof + [old_root], [new_root] + proof, [b""] + proof):
                assert not verify_consistency(old, new, old_root, new_root, wrong)


def test_verification_rejects_impossible_arguments_without_raising() -> None:
    h = leaf_hash(b"x")
    assert verify_inclusion(h, 0, 1, [], h)
    assert not verify_inclusion(h, 1, 1, [], h)
    assert not verify_inclusion(h, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(h, -1, 1, [], h)
    assert not verify_inclusion(h[:31], 0, 1, [], h[:31])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, h, [])
    assert not verify_consistency(0, 5, h, h, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, h, [h])
    assert verify_consistency(3, 3, h, h, [])
    assert not verify_consistency(3, 3, h, flip(h), [])
    assert not verify_consistency(3, 3, h, h, [h])
    assert not verify_consistency(4, 3, h, h, [h])
    assert not verify_consistency(-1, 3, h, h, [h])
    with pytest.raises(TypeError):
        verify_inclusion(h.hex(), 0, 1, [], h)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verify_consistency(1.0, 2, h, h, [h])  # type: ignore[arg-type]


def test_a_frontier_tracks_the_root_and_emits_every_completed_node() -> None:
    hashes = leaves(1000)
    frontier, emitted = Frontier(), {}
    assert frontier.root() == EMPTY_ROOT
    for size, leaf in enumerate(hashes, start=1):
        for level, index, h in frontier.append(leaf):
            assert (level, index) not in emitted
            emitted[level, index] = h
        assert frontier.size == size
        assert frontier.root() == root_from_leaf_hashes(hashes[:size])
    expected = {
        (level, index): mth(hashes[index << level : (index + 1) << level])
        for level in range(10)
        for index in range(1000 >> level)
    }
    assert emitted == expected


def test_a_frontier_survives_json_and_can_be_rebuilt_from_stored_nodes() -> None:
    hashes = leaves(300)
    nodes = stored_nodes(hashes)
    frontier = Frontier()
    for size, leaf in enumerate(hashes, start=1):
        frontier.append(leaf)
        restored = Frontier.from_dict(json.loads(json.dumps(frontier.to_dict())))
        assert restored == frontier == Frontier.from_nodes(size, nodes)
    restored.append(leaf_hash(b"next"))
    frontier.append(leaf_hash(b"next"))
    assert restored.root() == frontier.root()


def test_a_frontier_refuses_an_inconsistent_state() -> None:
    h = leaf_hash(b"x")
    with pytest.raises(ValueError):
        Frontier.from_dict({"size": 3, "hashes": [h.hex()]})
    with pytest.raises(ValueError):
        Frontier(1, [h[:16]])
    with pytest.raises(ValueError):
        Frontier().append(b"short")
