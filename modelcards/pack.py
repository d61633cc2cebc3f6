"""The evidence pack: one zip an auditor can check offline, with nothing but Python.

``documents/``      the SR 11-7 documentation and validation report, the Annex IV technical
                    documentation and the model card, as issued (each a ledger event)
``ledger-extract/`` the model's governance events up to the as-of date: ``events.jsonl`` holds
                    each event's canonical bytes, one per line, exactly as the ledger committed
                    to them; ``events.json`` says which leaf each line is
``proofs/``         the signed checkpoint the extract is proved against (as JSON and as a
                    C2SP signed note), and an RFC 6962 inclusion proof for every sealed event
``ledger/``         the ledger exported up to that checkpoint, in the verifier's format
``verifier/``       the standalone verifier's modules, to run ``python -m audit.verify``
``MANIFEST.sha256`` the SHA-256 of every other file (``sha256sum -c`` reads it)
``README.txt``      how to verify all of it

The zip is deterministic (sorted names, fixed timestamps), so the same pack for the same date
has the same SHA-256; that hash is recorded in the ledger when the pack is issued.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import tempfile
import zipfile
from pathlib import Path

from django.utils import timezone

import audit
from audit import signing
from audit.export import export_ledger
from audit.models import Checkpoint, GovernanceEvent, Leaf
from audit.sequencer import inclusion_proof
from compliance.models import AIModel
from compliance.names import checked

from .documents import Progress, _nothing, issue, store
from .evidence import cutoff_for
from .models import PACK_DOCUMENTS, DocumentKind, IssuedDocument

VERIFIER_MODULES = (
    "__init__.py",
    "canonical.py",
    "merkle.py",
    "projections.py",
    "note.py",
    "purging.py",
    "verify.py",
)


def _events(model: AIModel, cutoff: dt.datetime):
    # Packs themselves are left out: each would change the next pack issued for the date.
    return (
        GovernanceEvent.objects.filter(model=model, occurred_at__lt=cutoff)
        .exclude(event_type__startswith="evidence_pack.")
        .select_related("entry")
        .order_by("entry_id")
    )


def pack_files(
    model: AIModel, as_of: dt.date, documents: list[IssuedDocument], include_ledger: bool = True
) -> dict[str, bytes]:
    """Every file of the pack but the manifest, by path."""
    cutoff = cutoff_for(as_of)
    files: dict[str, bytes] = {}
    for document in documents:
        files[f"documents/{document.filename}"] = bytes(document.content)
    checkpoint = Checkpoint.objects.filter(issued_at__lt=cutoff).order_by("-tree_size").first()
    size = checkpoint.tree_size if checkpoint else 0
    events = list(_events(model, cutoff))
    leaves = dict(
        Leaf.objects.filter(entry_id__in=[e.entry_id for e in events]).values_list(
            "entry_id", "index"
        )
    )
    lines, index, proofs = [], [], []
    for line, event in enumerate(events, 1):
        canonical = bytes(event.entry.canonical)
        leaf = leaves.get(event.entry_id)
        sealed = leaf is not None and leaf < size
        lines.append(canonical)
        index.append(
            {
                "line": line,
                "event_type": event.event_type,
                "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
                "leaf_index": leaf if sealed else None,
                "leaf_hash": event.entry.leaf_hash_hex,
            }
        )
        if sealed:
            proofs.append(
                {
                    "line": line,
                    "leaf_index": leaf,
                    "leaf_hash": event.entry.leaf_hash_hex,
                    "inclusion_proof": [h.hex() for h in inclusion_proof(leaf, size)],
                }
            )
    files["ledger-extract/events.jsonl"] = b"".join(line + b"\n" for line in lines)
    files["ledger-extract/events.json"] = _json({"model": model.slug, "as_of": str(as_of),
                                                 "events": index})  # fmt: skip
    files["proofs/checkpoint.json"] = _json(checkpoint.signed() if checkpoint else None)
    if checkpoint is not None and checkpoint.note is not None:
        files["proofs/checkpoint.note"] = checkpoint.note.encode()
    files["proofs/inclusion-proofs.json"] = _json({"tree_size": size, "proofs": proofs})
    if include_ledger and checkpoint is not None:
        with tempfile.TemporaryDirectory() as tmp:
            # The ledger as of the checkpoint, without today's projections: the same pack for
            # the same date is the same bytes (the live tables are checked by verify_ledger).
            export_ledger(Path(tmp), up_to=size, projections=False)
            for path in sorted(Path(tmp).iterdir()):
                files[f"ledger/{path.name}"] = path.read_bytes()
    source = Path(audit.__file__).parent
    for name in VERIFIER_MODULES:
        files[f"verifier/audit/{name}"] = (source / name).read_bytes()
    files["README.txt"] = readme(model, as_of, documents, checkpoint, include_ledger).encode()
    return files


def _json(value) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def manifest(files: dict[str, bytes]) -> bytes:
    return "".join(
        f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files)
    ).encode()


def zip_bytes(files: dict[str, bytes], as_of: dt.date) -> bytes:
    """A zip whose bytes depend only on ``files`` and the date (stamped on every entry)."""
    stamp = (as_of.year, as_of.month, as_of.day, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return out.getvalue()


def issue_pack(
    model: AIModel,
    *,
    as_of: dt.date | None = None,
    user=None,
    include_ledger: bool = True,
    progress: Progress = _nothing,
) -> IssuedDocument:
    """Issue the pack's documents (or reuse those already issued), zip them with the ledger
    evidence, and record the pack's issue in the ledger."""
    as_of = as_of or timezone.now().date()
    documents = []
    for i, kind in enumerate(PACK_DOCUMENTS):
        progress(5 + 15 * i, f"Issuing the {DocumentKind(kind).label}")
        documents.append(issue(kind, model, as_of=as_of, user=user))
    progress(70, "Extracting the ledger and its proofs")
    files = pack_files(model, as_of, documents, include_ledger)
    files["MANIFEST.sha256"] = manifest(files)
    digest = hashlib.sha256(files["MANIFEST.sha256"]).hexdigest()
    reference = checked(f"PACK-{model.slug}-{as_of:%Y%m%d}-{digest[:10]}")  # names the zip
    existing = IssuedDocument.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    progress(85, "Writing the zip")
    content = zip_bytes(files, as_of)
    progress(95, "Recording the issue in the ledger")
    return store(
        reference,
        kind=DocumentKind.EVIDENCE_PACK,
        model=model,
        version_label=documents[0].version.label if documents[0].version else None,
        event_id=None,
        as_of=as_of,
        content=content,
        pages=None,
        coverage=[d.coverage["frameworks"][0] for d in documents],
        user=user,
        content_type="application/zip",
    )


def readme(model, as_of, documents, checkpoint, include_ledger) -> str:
    listed = "\n".join(
        f"  documents/{d.filename}\n      {d.get_kind_display()}, SHA-256 {d.sha256}"
        for d in documents
    )
    size = checkpoint.tree_size if checkpoint else 0
    verifier_key = signing.verifier_key()
    ledger = (
        f"""4. Verify the ledger itself (entries 0 to {size - 1}) with the standalone verifier,
   pinning the log's public key that you obtained from the operator independently:

       cd verifier && python -m audit.verify ../ledger --public-key YOUR-COPY-OF-THE-KEY.pem

   It needs Python 3.11 and `pip install cryptography rfc8785`; it reads ../ledger and
   prints "verified N entries ..." or the first entry that was modified, deleted, inserted or
   reordered, or a truncated tail. Checkpoints you kept from earlier exports can be added with
   --checkpoint FILE: they catch a log that rewrote its history and re-signed it.

5. Check that each line of ledger-extract/events.jsonl is the entry at its leaf index:
   line L of events.jsonl equals line (leaf_index + 1) of ledger/entries.jsonl.
"""
        if include_ledger and checkpoint
        else "4. This pack was issued without the ledger export: verify the proofs of step 3.\n"
    )
    return f"""Attest evidence pack: {model.name} ({model.slug}) as of {as_of}
=====================================================================

What is here
------------
{listed}

  ledger-extract/events.jsonl   the model's governance events up to {as_of} (UTC, end of day),
                                each line the canonical bytes the ledger committed to
  ledger-extract/events.json    for each line: event type, time, leaf index, leaf hash
  proofs/checkpoint.json        the signed checkpoint (tree size {size}) the proofs are against
  proofs/checkpoint.note        the same checkpoint as a C2SP signed note (tlog-checkpoint)
  proofs/inclusion-proofs.json  an RFC 6962 inclusion proof for every event sealed by then
  ledger/                       the whole ledger up to that checkpoint, as the verifier reads it
  verifier/audit/               the standalone verifier (python -m audit.verify), no Django
  MANIFEST.sha256               SHA-256 of every file above

How to verify
-------------
1. Check the files against the manifest:

       sha256sum -c MANIFEST.sha256

2. Match each document to the ledger: its footer carries a reference; the ledger holds a
   "document.issued" event whose object is that reference and whose "after" holds the
   document's SHA-256 (sha256sum documents/*.pdf).

3. Check the inclusion proofs: for each proof, SHA-256(0x00 || line bytes) must equal its
   leaf_hash, and folding the proof (RFC 6962 section 2.1.3.2) must give the root_hash of
   proofs/checkpoint.json, whose Ed25519 signature covers the RFC 8785 canonical JSON of its
   "statement". From the verifier folder:

       cd verifier && python -c "
       import json, base64; from audit import merkle
       lines = open('../ledger-extract/events.jsonl', 'rb').read().split(b'\\n')
       cp = json.load(open('../proofs/checkpoint.json'))['statement']
       for p in json.load(open('../proofs/inclusion-proofs.json'))['proofs']:
           ok = merkle.verify_inclusion(merkle.leaf_hash(lines[p['line'] - 1]), p['leaf_index'],
               cp['tree_size'], [bytes.fromhex(h) for h in p['inclusion_proof']],
               bytes.fromhex(cp['root_hash']))
           print(p['line'], p['leaf_index'], 'ok' if ok else 'FAILED')"

   The same checkpoint, as a C2SP signed note, verifies with standard transparency-log
   tools, e.g. Go's golang.org/x/mod/sumdb/note (note.NewVerifier, then note.Open), given
   the log's verifier key, which must equal the one the operator gave you independently:

       {verifier_key}

{ledger}
Events logged after the checkpoint but before the end of {as_of} have no leaf index in
events.json and no proof: they had not been sealed by then.
"""
