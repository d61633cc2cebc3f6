"""Verify an unzipped evidence pack with the standard library alone: ``python verify_pack.py
PACK --public-key KEY.pem``, run from the pack's ``verifier/`` folder (its ``audit`` package
holds the pure modules this reads: Merkle proofs, canonical JSON, signed notes, Ed25519).

The pack ships this file as ``verifier/verify_pack.py``; it imports nothing of Django or of the
project besides those modules, so a fresh ``python3.11 -m venv`` runs it without ``pip install``.
It stops at the first failure (exit code 1; 2 when the input is unusable) and checks, in order:

1. every file the manifest lists has the SHA-256 it states;
2. ``proofs/checkpoint.json`` is signed (Ed25519 over the RFC 8785 canonical JSON of its
   statement) by the key given, whose fingerprint (SHA-256 of the raw public key) it names;
3. ``proofs/checkpoint.note`` is signed by the same key and states the same tree size and root;
4. every line of ``ledger-extract/events.jsonl`` hashes to its leaf hash and has an RFC 6962
   inclusion proof against that root; where the pack holds ``ledger/``, each line is the
   ledger entry at its leaf index;
5. every file in ``documents/`` is named by a proven ``document.issued`` event that holds its
   SHA-256, and every ``reports/<id>.json`` by a proven ``report.completed`` event of report
   ``id`` that holds its SHA-256 (each report's PDF, listed in ``reports/index.json``, prints
   that SHA-256 on its cover).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path

from audit import ed25519, merkle, note
from audit.canonical import canonical_json


class Failed(Exception):
    """The pack does not verify (exit code 1)."""


class Unusable(Exception):
    """The pack or the key cannot be read (exit code 2)."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_json(path: Path):
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise Unusable(f"{path}: cannot be read as JSON ({exc})") from None


def check_manifest(pack: Path) -> int:
    """Step 1; how many files the manifest lists."""
    lines = (pack / "MANIFEST.sha256").read_text(encoding="utf-8").splitlines()
    for line in lines:
        digest, _, name = line.partition("  ")
        path = pack / name
        if not path.is_file():
            raise Failed(f"{name}: listed in MANIFEST.sha256 but missing")
        if _sha256(path.read_bytes()) != digest:
            raise Failed(f"{name}: its SHA-256 is not the one MANIFEST.sha256 lists: altered")
    return len(lines)


def check_checkpoint(pack: Path, key: bytes) -> dict:
    """Steps 2 and 3; the checkpoint's statement."""
    fingerprint = _sha256(key)
    signed = _read_json(pack / "proofs" / "checkpoint.json")
    if not signed:
        raise Failed("proofs/checkpoint.json holds no checkpoint: nothing in the pack is proved")
    statement = signed["statement"]
    if statement["key_id"] != fingerprint:
        raise Failed(
            f"the checkpoint names the log key {statement['key_id']}, not the key given "
            f"({fingerprint}): signed by another key, or the wrong key was given"
        )
    signature = base64.b64decode(signed["signature"], validate=True)
    if not ed25519.verify(key, signature, canonical_json(statement)):
        raise Failed("proofs/checkpoint.json has an invalid signature: altered or forged")
    text = (pack / "proofs" / "checkpoint.note").read_text(encoding="utf-8")
    try:
        stated = note.open_checkpoint(text, text.partition("\n")[0], key)
    except note.NoteError as exc:
        raise Failed(f"proofs/checkpoint.note is refused: {exc}") from None
    if (stated.tree_size, stated.root_hash.hex()) != (
        statement["tree_size"],
        statement["root_hash"],
    ):
        raise Failed("proofs/checkpoint.note states another tree than proofs/checkpoint.json")
    return statement


def check_extract(pack: Path, statement: dict) -> list[dict]:
    """Step 4; every event of the extract, parsed, each proven."""
    lines = (pack / "ledger-extract" / "events.jsonl").read_bytes().split(b"\n")[:-1]
    index = _read_json(pack / "ledger-extract" / "events.json")["events"]
    proofs = {p["line"]: p for p in _read_json(pack / "proofs" / "inclusion-proofs.json")["proofs"]}
    size, root = statement["tree_size"], bytes.fromhex(statement["root_hash"])
    if len(index) != len(lines):
        raise Failed(f"events.json describes {len(index)} lines, events.jsonl holds {len(lines)}")
    events = []
    for number, (line, described) in enumerate(zip(lines, index, strict=True), 1):
        leaf = merkle.leaf_hash(line)
        proof = proofs.get(number)
        if leaf.hex() != described["leaf_hash"]:
            raise Failed(f"events.jsonl line {number} does not hash to its leaf hash: altered")
        if proof is None or proof["leaf_hash"] != described["leaf_hash"]:
            raise Failed(f"events.jsonl line {number} has no inclusion proof: it is not proved")
        path = [bytes.fromhex(h) for h in proof["inclusion_proof"]]
        if not merkle.verify_inclusion(leaf, proof["leaf_index"], size, path, root):
            raise Failed(
                f"events.jsonl line {number}: its inclusion proof does not fold to the root"
            )
        events.append({**json.loads(line), "_leaf": proof["leaf_index"], "_bytes": line})
    entries = pack / "ledger" / "entries.jsonl"
    if entries.exists():
        wanted = {e["_leaf"]: e["_bytes"] for e in events}
        with open(entries, "rb") as f:
            for leaf, line in enumerate(f):
                if leaf in wanted and wanted.pop(leaf) != line.rstrip(b"\n"):
                    raise Failed(f"events.jsonl differs from ledger entry {leaf}")
        if wanted:
            raise Failed(f"ledger/entries.jsonl lacks the entries {sorted(wanted)[:5]}")
    return events


def check_evidence(pack: Path, events: list[dict]) -> tuple[int, int]:
    """Step 5; how many documents and reports match a proven event."""
    issued = {
        (e["after"]["reference"], e["after"]["sha256"])
        for e in events
        if e.get("event_type") == "document.issued"
    }
    completed = {
        (str(e["object"]["id"]), e["after"]["sha256"])
        for e in events
        if e.get("event_type") == "report.completed"
    }
    documents = sorted((pack / "documents").glob("*"))
    for path in documents:
        if (path.stem, _sha256(path.read_bytes())) not in issued:
            raise Failed(f"documents/{path.name} matches no proven document.issued event")
    reports = sorted((pack / "reports").glob("*.json"))
    listed = {r["json"] for r in _read_json(pack / "reports" / "index.json")["reports"]}
    for path in reports:
        if path.name == "index.json":
            continue
        if (path.stem, _sha256(path.read_bytes())) not in completed:
            raise Failed(f"reports/{path.name} matches no proven report.completed event")
        if f"reports/{path.name}" not in listed:
            raise Failed(f"reports/{path.name} is not listed in reports/index.json")
    return len(documents), len(reports) - 1


def verify_pack(pack: Path, public_key_pem: bytes) -> str:
    """The summary of a pack that verifies; raise Failed or Unusable otherwise."""
    try:
        key = ed25519.public_key_from_pem(public_key_pem)
    except ValueError as exc:
        raise Unusable(f"the public key: {exc}") from None
    files = check_manifest(pack)
    statement = check_checkpoint(pack, key)
    events = check_extract(pack, statement)
    documents, reports = check_evidence(pack, events)
    return "\n".join(
        [
            f"verified: {files} files match MANIFEST.sha256",
            f"log key fingerprint: {_sha256(key)} (SHA-256 of the raw Ed25519 public key)",
            f"checkpoint: tree size {statement['tree_size']}, root {statement['root_hash']}, "
            f"issued {statement['issued_at']}: signed, and its signed note agrees",
            f"events: {len(events)} ledger-extract lines, each proven included in it",
            f"documents: {documents}, reports: {reports}, each the SHA-256 of a proven event",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pack", help="the unzipped pack's folder")
    parser.add_argument("--public-key", required=True, metavar="FILE",
                        help="the log's key, obtained from the operator apart")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        print(verify_pack(Path(args.pack), Path(args.public_key).read_bytes()))
    except Failed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    except (Unusable, OSError, KeyError, TypeError, ValueError) as exc:
        print(f"UNUSABLE: {exc!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
