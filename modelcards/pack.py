"""The evidence pack: one zip an auditor can check offline, with nothing but Python.

``documents/``      the SR 11-7 documentation and validation report, the Annex IV technical
                    documentation and the model card, as issued (each a ledger event)
``ledger-extract/`` the model's governance events up to the as-of date and the documents'
                    issue: ``events.jsonl`` holds each event's canonical bytes, one per line,
                    exactly as the ledger committed to them; ``events.json`` says which leaf
                    each line is
``proofs/``         the signed checkpoint the extract is proved against (as JSON and as a
                    C2SP signed note), and an RFC 6962 inclusion proof for every event: the
                    pack seals before it packs, so there is no unproved line
``reports/``        the monitoring reports of the extract, as hashed (JSON) and as PDFs
``ledger/``         the ledger exported up to that checkpoint, in the verifier's format
``verifier/``       ``verify_pack.py`` and the standalone verifier's modules
                    (``python -m audit.verify``): the standard library only, no pip install
``MANIFEST.sha256`` the SHA-256 of every other file (``sha256sum -c`` reads it)
``VERIFY.txt``      how to verify all of it: commands to run as they stand

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

from django.db.models import Q
from django.utils import timezone

import audit
from audit import signing
from audit.export import export_ledger
from audit.models import Checkpoint, GovernanceEvent, Leaf
from audit.sequencer import NotSealed, await_sealed, inclusion_proof
from compliance.models import AIModel, MonitoringReport
from compliance.names import checked

from . import verify_pack
from .documents import Progress, _nothing, issue, store
from .evidence import cutoff_for
from .models import PACK_DOCUMENTS, DocumentKind, IssuedDocument
from .monitoring import filename as monitoring_filename
from .monitoring import render_monitoring_report

INSTRUCTIONS = "VERIFY.txt"  # the name the project's README and the demo give it

VERIFIER_MODULES = (
    "__init__.py",
    "canonical.py",
    "ed25519.py",
    "merkle.py",
    "projections.py",
    "note.py",
    "purging.py",
    "verify.py",
)


def _events(model: AIModel, cutoff: dt.datetime, documents: list[IssuedDocument]):
    """The model's governance events up to the cutoff, and the issue of each document of the
    pack (issued now, so after a past cutoff): every document is then proved by its event."""
    # Packs themselves are left out: each would change the next pack issued for the date.
    before = Q(model=model, occurred_at__lt=cutoff) & ~Q(event_type__startswith="evidence_pack.")
    issued = Q(pk__in=[d.event_id for d in documents])
    return (
        GovernanceEvent.objects.filter(before | issued).select_related("entry").order_by("entry_id")
    )


def pack_files(
    model: AIModel,
    as_of: dt.date,
    documents: list[IssuedDocument],
    include_ledger: bool = True,
    progress: Progress = _nothing,
) -> dict[str, bytes]:
    """Every file of the pack but the manifest, by path. Every event of the extract must be
    sealed (``issue_pack`` seals first); the pack's checkpoint is the first that covers them
    all, so the same events give the same checkpoint however much is logged later."""
    cutoff = cutoff_for(as_of)
    files: dict[str, bytes] = {}
    for document in documents:
        files[f"documents/{document.filename}"] = bytes(document.content)
    events = list(_events(model, cutoff, documents))
    leaves = dict(
        Leaf.objects.filter(entry_id__in=[e.entry_id for e in events]).values_list(
            "entry_id", "index"
        )
    )
    unsealed = [e.entry_id for e in events if e.entry_id not in leaves]
    if unsealed:
        raise NotSealed(f"entries {unsealed[:5]} are in no checkpoint: seal before packing")
    last = max(leaves.values(), default=-1)
    checkpoint = Checkpoint.objects.filter(tree_size__gt=last).order_by("tree_size").first()
    if checkpoint is None:
        raise NotSealed(f"no signed checkpoint covers leaf {last}: seal before packing")
    size = checkpoint.tree_size
    lines, index, proofs = [], [], []
    for line, event in enumerate(events, 1):
        leaf = leaves[event.entry_id]
        lines.append(bytes(event.entry.canonical))
        index.append(
            {
                "line": line,
                "event_type": event.event_type,
                "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
                "leaf_index": leaf,
                "leaf_hash": event.entry.leaf_hash_hex,
            }
        )
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
    files["proofs/checkpoint.json"] = _json(checkpoint.signed())
    files["proofs/checkpoint.note"] = checkpoint.note.encode()
    files["proofs/inclusion-proofs.json"] = _json({"tree_size": size, "proofs": proofs})
    progress(75, "Rendering the monitoring reports")
    files.update(report_files(events))
    if include_ledger:
        with tempfile.TemporaryDirectory() as tmp:
            # The ledger as of the checkpoint, without today's projections: the same pack for
            # the same date is the same bytes (the live tables are checked by verify_ledger).
            export_ledger(Path(tmp), up_to=size, projections=False)
            for path in sorted(Path(tmp).iterdir()):
                files[f"ledger/{path.name}"] = path.read_bytes()
    source = Path(audit.__file__).parent
    for name in VERIFIER_MODULES:
        files[f"verifier/audit/{name}"] = (source / name).read_bytes()
    files["verifier/verify_pack.py"] = Path(verify_pack.__file__).read_bytes()
    files[INSTRUCTIONS] = readme(model, as_of, documents, checkpoint, include_ledger).encode()
    return files


def report_files(events: list[GovernanceEvent]) -> dict[str, bytes]:
    """Each monitoring report whose ``report.completed`` event is in the extract: its content
    exactly as hashed (``reports/<id>.json``) and its PDF, which prints that hash, so every
    figure the documents take from a report ties to a proven event."""
    ids = [int(e.object_id) for e in events if e.event_type == "report.completed"]
    files, listed = {}, []
    reports = MonitoringReport.objects.filter(pk__in=ids).select_related("model", "version")
    for report in reports.order_by("created_at", "pk"):
        pdf = render_monitoring_report(report)
        files[f"reports/{report.pk}.json"] = report.content_bytes()
        files[f"reports/{monitoring_filename(report)}"] = pdf.content
        listed.append(
            {
                "id": report.pk,
                "version": report.version.label,
                "window": [report.window_start.isoformat(), report.window_end.isoformat()],
                "content_sha256": report.content_sha256,
                "json": f"reports/{report.pk}.json",
                "pdf": f"reports/{monitoring_filename(report)}",
                "pdf_sha256": pdf.sha256,
            }
        )
    files["reports/index.json"] = _json({"reports": listed})
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
    progress(65, "Sealing the documents' issue into a signed checkpoint")
    await_sealed(max(d.event.entry_id for d in documents))
    progress(70, "Extracting the ledger and its proofs")
    files = pack_files(model, as_of, documents, include_ledger, progress)
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
    """VERIFY.txt. Its commands are the lines that start with ``$``: the tests run them as
    they stand, in a fresh ``python3.11 -m venv``, so they must need nothing but the pack,
    the standard library and the key the auditor saves as ``log-key.pem``."""
    listed = "\n".join(
        f"  documents/{d.filename}\n      {d.get_kind_display()}, SHA-256 {d.sha256}"
        for d in documents
    )
    size = checkpoint.tree_size
    ledger = (
        f"""4. Verify the ledger itself (entries 0 to {size - 1}) with the standalone verifier:
   every checkpoint's signature under your key, every entry's hash, every root:

    $ cd verifier && python -m audit.verify ../ledger --public-key ../log-key.pem

   It prints "verified N entries ..." or the first entry that was modified, deleted, inserted
   or reordered, or a truncated tail. Checkpoints you kept from earlier exports can be added
   with --checkpoint FILE: they catch a log that rewrote its history and re-signed it.
"""
        if include_ledger
        else "4. This pack was issued without the ledger export: step 2 is the whole check.\n"
    )
    return f"""Attest evidence pack: {model.name} ({model.slug}) as of {as_of}
=====================================================================

Log key fingerprint: {signing.key_id()}
  (SHA-256 of the log's raw Ed25519 public key; the footer of every document prints it, and
  the operator's `manage.py show_log_key` prints it as "key id". Compare it with the one you
  obtained from the operator independently: the pack proves nothing under another key.)

What is here
------------
{listed}

  ledger-extract/events.jsonl   the model's governance events up to {as_of} (UTC, end of day)
                                and the issue of each document above, each line the canonical
                                bytes the ledger committed to
  ledger-extract/events.json    for each line: event type, time, leaf index, leaf hash
  proofs/checkpoint.json        the signed checkpoint (tree size {size}) every line is proved
                                against: the first that covers them all
  proofs/checkpoint.note        the same checkpoint as a C2SP signed note (tlog-checkpoint)
  proofs/inclusion-proofs.json  an RFC 6962 inclusion proof for every line
  reports/<id>.json             each monitoring report of the extract, exactly the bytes whose
                                SHA-256 its report.completed event holds
  reports/MON-*.pdf             the same reports as PDFs; each cover prints that SHA-256
  reports/index.json            which PDF and JSON file is which report
  ledger/                       the whole ledger up to that checkpoint, as the verifier reads it
  verifier/                     the verifiers (verify_pack.py, python -m audit.verify)
  MANIFEST.sha256               SHA-256 of every file above

How to verify
-------------
The verifiers use the Python standard library only (3.11 or later; Ed25519 is checked by the
RFC 8032 reference algorithm in verifier/audit/ed25519.py): no pip install, no requirements
file, no network. In a fresh environment, e.g. `python3.11 -m venv v && . v/bin/activate`,
unzip the pack, save the log's public key (PEM) that you obtained from the operator
independently as log-key.pem in the pack's folder, beside this file, and run each command
below from that folder.

1. Check the files against the manifest:

    $ sha256sum -c MANIFEST.sha256

2. Check the pack: the Ed25519 signature of proofs/checkpoint.json under your key, that
   proofs/checkpoint.note states the same tree under the same key, that every line of
   ledger-extract/events.jsonl hashes to its leaf and folds by its inclusion proof to the
   checkpoint's root (and is the ledger's entry at that leaf), and that every file in
   documents/ and every reports/<id>.json is the SHA-256 held by a proven event
   (document.issued, report.completed). It checks the manifest too and prints the
   fingerprint of the key you gave:

    $ cd verifier && python verify_pack.py .. --public-key ../log-key.pem

3. Match the PDFs by eye if you wish: each document's footer carries its reference (the
   file's name) and the log key fingerprint; each report PDF's cover carries the report's
   content SHA-256, which is that of reports/<id>.json. The checkpoint note also verifies
   with standard transparency-log tools, e.g. Go's golang.org/x/mod/sumdb/note
   (note.NewVerifier, then note.Open), given the log's verifier key:

       {signing.verifier_key()}

{ledger}"""
