"""The evidence pack: documents, ledger extract, proofs, ledger export, manifest, README."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command

from audit import merkle
from audit.verify import verify_directory
from modelcards.models import DocumentKind, IssuedDocument
from modelcards.pack import issue_pack
from tests.modelcards.conftest import GOVERNED

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def pack(world):
    """The pack as of 31 July, issued once for the module by audrey (the auditor)."""
    return issue_pack(world.model, as_of=GOVERNED, user=world.users["audrey"])


@pytest.fixture(scope="module")
def files(pack) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bytes(pack.content))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_pack_holds_the_four_documents_as_issued(files):
    documents = [n for n in files if n.startswith("documents/")]
    assert len(documents) == 4
    for name in documents:
        issued = IssuedDocument.objects.get(reference=name.split("/")[1].removesuffix(".pdf"))
        assert hashlib.sha256(files[name]).hexdigest() == issued.sha256
    kinds = set(IssuedDocument.objects.values_list("kind", flat=True))
    assert {"sr117", "validation", "annex4", "modelcard", "evidence_pack"} == kinds


def test_the_manifest_lists_the_sha_256_of_every_file(files):
    files = dict(files)
    lines = files.pop("MANIFEST.sha256").decode().splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert set(listed) == set(files)
    for name, digest in listed.items():
        assert hashlib.sha256(files[name]).hexdigest() == digest


def test_the_ledger_in_the_pack_verifies_with_the_standalone_verifier(pack, tmp_path):
    with zipfile.ZipFile(io.BytesIO(bytes(pack.content))) as archive:
        archive.extractall(tmp_path)
    result = verify_directory(tmp_path / "ledger")
    assert result.ok, result.message
    assert result.entries >= 600


def test_every_governance_event_in_the_extract_has_a_proof_that_verifies(files):
    lines = files["ledger-extract/events.jsonl"].split(b"\n")
    checkpoint = json.loads(files["proofs/checkpoint.json"])["statement"]
    proofs = json.loads(files["proofs/inclusion-proofs.json"])["proofs"]
    index = json.loads(files["ledger-extract/events.json"])["events"]
    types = {e["event_type"] for e in index}
    assert types >= {"aimodel.created", "modelversion.created", "version.approved",
                     "deployment.deployed", "report.completed", "oversight.override"}  # fmt: skip
    assert len(proofs) == len([e for e in index if e["leaf_index"] is not None]) > 0
    for p in proofs:
        leaf = merkle.leaf_hash(lines[p["line"] - 1])
        assert leaf.hex() == p["leaf_hash"]
        path = [bytes.fromhex(h) for h in p["inclusion_proof"]]
        root = bytes.fromhex(checkpoint["root_hash"])
        assert merkle.verify_inclusion(leaf, p["leaf_index"], checkpoint["tree_size"], path, root)


def test_the_readme_tells_the_auditor_how_to_verify(files):
    readme = files["README.txt"].decode()
    assert "python -m audit.verify ../ledger" in readme
    assert "sha256sum -c MANIFEST.sha256" in readme
    assert "verifier/audit/verify.py" in files


def test_the_pack_is_a_ledger_event_and_the_same_for_the_same_date(pack, credit_model):
    assert pack.kind == DocumentKind.EVIDENCE_PACK
    assert pack.event.after["sha256"] == hashlib.sha256(pack.content).hexdigest()
    assert issue_pack(credit_model, as_of=GOVERNED).reference == pack.reference


def test_export_evidence_pack_writes_the_zip_issued(pack, tmp_path):
    out = tmp_path / "pack.zip"
    output = StringIO()
    call_command("export_evidence_pack", "--model", "credit-scoring", "--as-of", "2026-07-31",
                 "--out", str(out), stdout=output)  # fmt: skip
    assert f"Evidence pack {pack.reference}" in output.getvalue()
    assert out.read_bytes() == bytes(pack.content)
