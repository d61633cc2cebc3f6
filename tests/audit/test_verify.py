"""The standalone verifier catches every kind of tampering, and names it."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.canonical import canonical_json, sha256_hex
from audit.merkle import leaf_hash, root_from_leaf_hashes
from audit.verify import main, verify_directory

ROOT = Path(__file__).resolve().parents[2]
SIZES = (30, 64, 100, 120)  # checkpoints #1 to #4; the export holds 130 entries


def key_id(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sha256_hex(raw)


def checkpoint(key, entries, size, *, root=None, issued="2026-05-01T12:00:00Z", kid=None) -> str:
    root = root or root_from_leaf_hashes([leaf_hash(e) for e in entries[:size]])
    statement = {"log_id": "attest-test", "tree_size": size, "root_hash": root.hex(),
                 "issued_at": issued, "key_id": kid or key_id(key)}  # fmt: skip
    signature = base64.b64encode(key.sign(canonical_json(statement))).decode()
    return json.dumps({"statement": statement, "signature": signature})


def write(directory: Path, key, entries: list[bytes], sizes=SIZES) -> None:
    """Write an export: the log's view of ``entries`` and checkpoints at ``sizes``."""
    forge_leaf_hashes(directory, entries)
    lines = [checkpoint(key, entries, size, issued=f"2026-05-0{n}T12:00:00Z") for n, size in
             enumerate(sizes, 1)]  # fmt: skip
    (directory / "checkpoints.jsonl").write_text("".join(line + "\n" for line in lines))


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def entries() -> list[bytes]:
    return [
        canonical_json({"seq": i, "model": "credit-v3", "prediction": {"score": i / 130},
                        "subject": sha256_hex(f"subject-{i}".encode()), "note": "données"})
        for i in range(130)
    ]  # fmt: skip


@pytest.fixture
def export(tmp_path, key, entries) -> Path:
    directory = tmp_path / "export"
    directory.mkdir()
    write(directory, key, entries)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (directory / "public_key.pem").write_bytes(pem)
    (tmp_path / "pinned.pem").write_bytes(pem)
    return directory


def fails(export: Path, *kept: Path, code: int = 1) -> str:
    result = verify_directory(export, kept, (export.parent / "pinned.pem").read_bytes())
    assert (result.ok, result.exit_code) == (False, code), result.message
    return result.message


def rewrite_entries(export: Path, entries: list[bytes]) -> None:
    """The naive attacker: edits entries.jsonl only."""
    (export / "entries.jsonl").write_bytes(b"".join(e + b"\n" for e in entries))


def forge_leaf_hashes(export: Path, entries: list[bytes]) -> None:
    """The better attacker: edits entries.jsonl and recomputes leaf_hashes.txt to match."""
    rewrite_entries(export, entries)
    hashes = "".join(leaf_hash(e).hex() + "\n" for e in entries)
    (export / "leaf_hashes.txt").write_text(hashes)


def test_a_valid_export_verifies_and_summarises_itself(export, entries, capsys):
    result = verify_directory(export)
    assert result.ok and result.exit_code == 0
    assert (result.entries, result.checkpoints, result.first_bad_entry) == (130, 4, None)
    assert "verified 130 entries, 4 signed checkpoints" in result.message
    assert "tree size 120" in result.message and "each signed tree extends" in result.message
    assert "from " in result.warnings[0] and "--public-key" in result.warnings[0]
    assert "entries 120 to 129 are covered by no signed checkpoint" in result.warnings[1]
    assert main([str(export), "--public-key", str(export.parent / "pinned.pem")]) == 0
    out, err = capsys.readouterr()
    assert "entries/s" in out and "--public-key FILE" not in err


def test_a_modified_entry_is_named_by_its_index(export, entries):
    original = entries[37]
    entries[37] = original.replace(b'"credit-v3"', b'"credit-v4"')
    rewrite_entries(export, entries)
    result = verify_directory(export)
    assert (result.exit_code, result.first_bad_entry) == (1, 37)
    assert result.message == (
        f"entry 37 was modified: its bytes hash to {leaf_hash(entries[37]).hex()}, the log "
        f"recorded {leaf_hash(original).hex()} (entries.jsonl line 38)"
    )


def test_an_entry_that_is_not_json_is_reported_as_modified_not_as_a_crash(export, entries):
    entries[5] = b"\xff\xfe{not json"
    rewrite_entries(export, entries)
    message = fails(export)
    assert message.startswith("entry 5 was modified") and "not even valid UTF-8 JSON" in message


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda e: e[:40] + e[41:], "entry 40 was deleted"),
        (lambda e: [*e[:40], b'{"forged":true}', *e[40:]], "an entry was inserted before entry 40"),
        (lambda e: [*e[:40], e[41], e[40], *e[42:]], "entries 40 and 41 were swapped"),
        (lambda e: e[:120], "entries.jsonl has 120 entries but leaf_hashes.txt records 130"),
    ],
)
def test_editing_entries_alone_is_caught_against_the_recorded_leaf_hashes(
    export, entries, edit, expected
):
    rewrite_entries(export, edit(entries))
    assert fails(export).startswith(expected)


@pytest.mark.parametrize(
    "edit",
    [
        lambda e: [*e[:40], e[40].replace(b"credit-v3", b"credit-v4"), *e[41:]],
        lambda e: e[:40] + e[41:],
        lambda e: [*e[:40], b'{"forged":true}', *e[40:]],
        lambda e: [*e[:40], e[41], e[40], *e[42:]],
    ],
    ids=["modified", "deleted", "inserted", "swapped"],
)
def test_edits_with_forged_leaf_hashes_are_caught_at_the_next_checkpoint(export, entries, edit):
    forge_leaf_hashes(export, edit(entries))
    assert fails(export) == (
        "entries up to 64 do not match signed checkpoint #2 (tree size 64, issued "
        "2026-05-02T12:00:00Z): an entry in [30, 64) was modified, deleted, inserted or reordered"
    )


def test_a_truncated_tail_is_caught_by_the_checkpoints_in_the_export(export, entries):
    forge_leaf_hashes(export, entries[:90])
    assert fails(export).startswith(
        "the ledger has 90 entries but signed checkpoint #3 (signed 2026-05-03T12:00:00Z) "
        "covers 100: the tail was truncated"
    )


def test_a_tail_truncated_with_its_checkpoints_is_caught_by_a_checkpoint_kept_earlier(
    export, key, entries
):
    kept = export.parent / "kept.jsonl"
    kept.write_text((export / "checkpoints.jsonl").read_text().splitlines()[3] + "\n")
    write(export, key, entries[:90], SIZES[:2])  # the attacker drops checkpoints #3 and #4
    assert verify_directory(export).ok  # nothing in the export itself betrays it
    assert fails(export, kept) == (
        f"the ledger has 90 entries but the checkpoint kept in {kept} line 1 (signed "
        "2026-05-04T12:00:00Z) covers 120: the tail was truncated"
    )


def test_a_rewritten_and_resigned_history_is_caught_by_a_checkpoint_kept_earlier(
    export, key, entries
):
    kept = export.parent / "kept.jsonl"
    kept.write_text((export / "checkpoints.jsonl").read_text())
    entries[10] = entries[10].replace(b"credit-v3", b"credit-v4")
    write(export, key, entries)  # an insider with the signing key redoes everything
    assert verify_directory(export).ok
    assert fails(export, kept).startswith(
        f"entries up to 30 do not match the checkpoint kept in {kept} line 1 (tree size 30, "
        "issued 2026-05-01T12:00:00Z): an entry in [0, 30) was modified"
    )


def test_a_forged_checkpoint_signature_is_rejected(export):
    lines = (export / "checkpoints.jsonl").read_text().splitlines()
    cp = json.loads(lines[1])
    cp["statement"]["root_hash"] = "ab" * 32
    lines[1] = json.dumps(cp)
    (export / "checkpoints.jsonl").write_text("\n".join(lines) + "\n")
    assert fails(export) == (
        "signed checkpoint #2 (tree size 64, issued 2026-05-02T12:00:00Z) has an invalid "
        "signature: it was altered or forged"
    )


def test_a_checkpoint_signed_by_another_key_is_rejected(export, key, entries):
    other = Ed25519PrivateKey.generate()
    lines = (export / "checkpoints.jsonl").read_text().splitlines()
    lines[2] = checkpoint(other, entries, 100, issued="2026-05-03T12:00:00Z")
    (export / "checkpoints.jsonl").write_text("\n".join(lines) + "\n")
    assert f"#3 (tree size 100, issued 2026-05-03T12:00:00Z) names key {key_id(other)}" in (
        fails(export)
    )
    lines[2] = checkpoint(other, entries, 100, kid=key_id(key))  # claiming the log's key id
    (export / "checkpoints.jsonl").write_text("\n".join(lines) + "\n")
    assert "#3 (tree size 100, issued 2026-05-01T12:00:00Z) has an invalid signature" in (
        fails(export)
    )


@pytest.mark.parametrize(
    ("size", "root", "expected"),
    [
        (120, b"\x01" * 32, "sign different roots for one size: a forked log"),
        (
            100,
            None,
            "comes after signed checkpoint #4 (tree size 120, issued 2026-05-04T12:00:00Z)",
        ),
    ],
)
def test_checkpoints_never_shrink_nor_sign_two_roots_for_one_size(
    export, key, entries, size, root, expected
):
    with (export / "checkpoints.jsonl").open("a") as f:
        f.write(checkpoint(key, entries, size, root=root) + "\n")
    assert expected in fails(export)


def test_a_malformed_line_is_unusable_input_naming_file_and_line(export):
    with (export / "checkpoints.jsonl").open("a") as f:
        f.write('{"statement": {"tree_size": 5}\n')
    assert "checkpoints.jsonl line 5: not a signed checkpoint" in fails(export, code=2)
    lines = (export / "leaf_hashes.txt").read_text().splitlines()
    lines[7] = "not a hash"
    (export / "checkpoints.jsonl").write_text("")
    (export / "leaf_hashes.txt").write_text("\n".join(lines) + "\n")
    assert fails(export, code=2).startswith("leaf_hashes.txt line 8: not a SHA-256 hash")


def test_a_missing_file_is_unusable_input(export, capsys):
    (export / "leaf_hashes.txt").unlink()
    assert (
        fails(export, code=2)
        == f"cannot read {export / 'leaf_hashes.txt'}: No such file or directory"
    )
    assert main([str(export / "nowhere")]) == 2
    assert "cannot verify: cannot read" in capsys.readouterr().err


def test_the_verifier_runs_as_a_module_without_django(export, entries):
    run = subprocess.run(
        [sys.executable, "-c", "import sys, audit.verify; sys.exit('django' in sys.modules)"],
        cwd=ROOT,
    )
    assert run.returncode == 0
    entries[3] = b"{}"
    rewrite_entries(export, entries)
    args = [sys.executable, "-m", "audit.verify", str(export), "--public-key"]
    run = subprocess.run(
        [*args, str(export.parent / "pinned.pem")], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 1 and run.stdout.startswith(
        "VERIFICATION FAILED: entry 3 was modified"
    )
