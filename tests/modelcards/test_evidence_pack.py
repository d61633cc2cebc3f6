"""The evidence pack as of 31 July, after the real approval workflow, deployment, monitoring
reports and human oversight of the conftest's timeline, and the four documents in it, read as an
auditor gets them.

The pack (and so each document) is issued once for the module; its few tests share it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command

from audit import merkle, note, signing
from audit.verify import verify_directory
from compliance.models import MonitoringReport
from modelcards.models import DocumentKind, IssuedDocument
from modelcards.pack import issue_pack
from tests.modelcards.conftest import CONDITION, FINDING, GOVERNED, OVERRIDE_REASON, flat

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def pack(world) -> IssuedDocument:
    """Issued once for the module by audrey (the auditor), with its four documents."""
    return issue_pack(world.model, as_of=GOVERNED, user=world.users["audrey"])


@pytest.fixture(scope="module")
def files(pack) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bytes(pack.content))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def document(kind: str, files) -> tuple[dict, str]:
    """A document of the pack: its coverage as issued, and its text."""
    (name,) = [n for n in files if n.startswith(f"documents/{PREFIXES[kind]}-")]
    issued = IssuedDocument.objects.get(reference=name.split("/")[1].removesuffix(".pdf"))
    return issued.coverage["frameworks"][0], flat(files[name])


PREFIXES = {"sr117": "SR117", "validation": "VAL", "annex4": "AIA4", "modelcard": "CARD"}


@pytest.fixture(scope="module")
def validation(files):
    return document(DocumentKind.VALIDATION, files)


@pytest.fixture(scope="module")
def annex4(files):
    return document(DocumentKind.ANNEX4, files)


@pytest.fixture(scope="module")
def model_card(files):
    return document(DocumentKind.MODELCARD, files)


@pytest.fixture(scope="module")
def sr117(files):
    return document(DocumentKind.SR117, files)


def latest(world) -> MonitoringReport:
    return world.reports[-1]


# ---------------------------------------------------------------------------- the pack


def test_the_pack_holds_the_documents_as_issued_a_manifest_and_how_to_verify(files):
    documents = [n for n in files if n.startswith("documents/")]
    assert len(documents) == 4
    for name in documents:
        issued = IssuedDocument.objects.get(reference=name.split("/")[1].removesuffix(".pdf"))
        assert hashlib.sha256(files[name]).hexdigest() == issued.sha256
    kinds = set(IssuedDocument.objects.values_list("kind", flat=True))
    assert {"sr117", "validation", "annex4", "modelcard", "evidence_pack"} == kinds
    # The manifest lists the SHA-256 of every other file.
    others = dict(files)
    lines = others.pop("MANIFEST.sha256").decode().splitlines()
    listed = dict(reversed(line.split("  ", 1)) for line in lines)
    assert set(listed) == set(others)
    for name, digest in listed.items():
        assert hashlib.sha256(others[name]).hexdigest() == digest
    # The README tells the auditor how to verify it all.
    readme = files["VERIFY.txt"].decode()
    assert "python -m audit.verify ../ledger" in readme
    assert "sha256sum -c MANIFEST.sha256" in readme
    assert "verifier/audit/verify.py" in files


def test_the_ledger_and_every_governance_event_in_the_pack_verify(pack, files, tmp_path):
    with zipfile.ZipFile(io.BytesIO(bytes(pack.content))) as archive:
        archive.extractall(tmp_path)
    result = verify_directory(tmp_path / "ledger")  # the standalone verifier
    assert result.ok, result.message
    assert result.entries >= 600
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


def test_the_packs_checkpoint_note_states_its_checkpoint_under_the_key_the_readme_prints(files):
    readme = files["VERIFY.txt"].decode()
    assert signing.verifier_key() in readme
    name, _, encoded = signing.verifier_key().split("+", 2)
    stated = note.open_checkpoint(
        files["proofs/checkpoint.note"].decode(), name, base64.b64decode(encoded)[1:]
    )
    checkpoint = json.loads(files["proofs/checkpoint.json"])["statement"]
    assert (stated.tree_size, stated.root_hash.hex()) == (
        checkpoint["tree_size"], checkpoint["root_hash"]
    )  # fmt: skip


def test_the_packs_own_verifier_runs_alone_and_checks_the_notes(pack, tmp_path):
    """Run from verifier/, ``audit`` is the pack's copy: a module it lacks is an ImportError.
    Without ``site`` (-S), the venv's editable install cannot lend the project's own modules;
    its third-party packages come in by PYTHONPATH."""
    with zipfile.ZipFile(io.BytesIO(bytes(pack.content))) as archive:
        archive.extractall(tmp_path)
    result = subprocess.run(
        [sys.executable, "-S", "-m", "audit.verify", "../ledger"],
        cwd=tmp_path / "verifier", capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "checkpoint notes, each stating a verified checkpoint" in result.stdout


def test_the_pack_is_a_ledger_event_issued_once_a_date_and_exported_by_the_command(
    pack, credit_model, tmp_path
):
    assert pack.kind == DocumentKind.EVIDENCE_PACK
    assert pack.event.after["sha256"] == hashlib.sha256(pack.content).hexdigest()
    assert issue_pack(credit_model, as_of=GOVERNED).reference == pack.reference
    out = tmp_path / "pack.zip"
    output = StringIO()
    call_command("export_evidence_pack", "--model", "credit-scoring", "--as-of", "2026-07-31",
                 "--out", str(out), stdout=output)  # fmt: skip
    assert f"Evidence pack {pack.reference}" in output.getvalue()
    assert out.read_bytes() == bytes(pack.content)


# ---------------------------------------------------------------------------- the documents in it


def test_the_validation_report_is_complete_from_the_workflow_and_the_reports(validation, world):
    coverage, text = validation
    assert coverage["gaps"] == [] and "GAP" not in text
    reviews = text.split("1.2 Reviews and their scope")[-1].split("2 Independence")[0]
    # each validator's own scope (compliance.demo.reviews), decision and time
    assert (
        "victor 1 Initial validation: data, design, performance and fairness of the bundle."
        " Approve with conditions 2026-07-02 10:00:00 UTC"
    ) in reviews
    assert (
        "valerie 1 Second-line challenge of the first review, with an independent challenger."
        " Approve with conditions 2026-07-02 16:00:00 UTC"
    ) in reviews
    assert "Every validator of version 1.0.0 is independent of it" in text
    assert "State of version 1.0.0 as of 2026-07-31: Approved with conditions" in text
    assert "Approval valid until 2027-07-02 16:00:00 UTC" in text  # from valerie's, the second
    assert FINDING in text and "Remediated by valerie on 2026-07-05 10:00:00 UTC" in text
    assert CONDITION in text
    report = latest(world)
    assert f"Latest fairness report: monitoring report #{report.pk} of version 1.0.0" in text
    # the finding the monitor opened for each breach (maybe on an earlier report) is dated after
    # the approval, so listed apart; its title cell wraps after the subject's first word
    later = text.split("9.2 Findings raised after the approval")[-1].split("10 Governance")[0]
    for breach in report.breaches:
        assert breach["message"] in text
        subject = breach["subject"].split()[0]
        assert f"Monitoring: {breach['metric'].replace('_', ' ')} of {subject}" in later


def test_annex_iv_prints_the_oversight_recorded_in_the_ledger(annex4, world):
    coverage, text = annex4
    oversight = text.split("3.4 Human oversight measures (Article 14)")[-1].split("3.5 ")[0]
    assert "Oversight events before the cut-off 2" in oversight
    assert "Decisions overridden or reversed 1 of 600 logged decisions (0.17%)" in oversight
    assert world.overridden in oversight and "0 → 1" in oversight
    assert OVERRIDE_REASON in oversight
    assert "uma.underwriter" in oversight and "recorded by" in oversight
    assert "scoring-service" in oversight
    assert not [gap for gap in coverage["gaps"] if "oversight (override" in gap]


def test_annex_iv_2g_and_point_9_come_from_the_reports_and_schedules(annex4, world):
    _, text = annex4
    point = text.split("2(g) Validation and testing")[-1].split("2(h) Cybersecurity")[0]
    assert "Discriminatory impact, from the latest scheduled fairness report" in point
    assert f"monitoring report #{latest(world).pk}" in point
    assert "2 monitoring reports stored for this model before the cut-off" in point
    plan = text.split("9. Post-market monitoring plan")[-1]
    assert "Schedule “Daily monitoring”" in plan
    assert "the last 10 days of logged decisions, daily (every 24 h)" in plan
    assert "Demographic parity difference, at most 0.020 schedule" in plan
    assert "changed thresholds" in plan and "rita" in plan
    assert "Findings opened by the monitors" in plan
    for gap in ("No fairness report", "No active monitoring schedule", "No drift report"):
        assert gap not in text


def test_the_model_card_gives_intersectional_results_from_the_latest_report(model_card, world):
    _, text = model_card
    analyses = text.split("7.2 Intersectional results")[-1].split("7.3 ")[0]
    assert "Selection rates by sex & age_band" in analyses
    assert "sex=F & age_band=18-24" in analyses
    assert "Error rates by sex & age_band" in analyses
    groups = latest(world).results["fairness"]["attributes"][0]["groups"]
    assert f"{groups[0]['selection_rate'] * 100:.1f}%" in analyses
    assert "Latest performance report" in text


def test_the_sr117_monitoring_plan_has_the_schedule_reports_and_approvals(sr117, world):
    coverage, text = sr117
    plan = text.split("8 Ongoing monitoring plan")[-1].split("9 Model inventory entry")[0]
    assert "Schedule “Daily monitoring”" in plan
    assert "2 monitoring reports stored for this model before the cut-off, 2 with at least" in plan
    for heading in ("Latest fairness report", "Latest drift report", "Latest performance report"):
        assert heading in plan
    assert "The approval of version 1.0.0 expires 2027-07-02 16:00:00 UTC" in plan  # valerie's
    assert "production champion" in text and "Go-live of 1.0.0." in text
    assert len(coverage["gaps"]) == 6  # the narrative fields nobody wrote
    assert all(gap.endswith(" on file") and "report" not in gap for gap in coverage["gaps"])


# ---------------------------------------------------------------------------- VERIFY.txt, verbatim


def _unpacked(pack, where):
    """The pack unzipped as an auditor has it, with the log key saved as VERIFY.txt asks."""
    with zipfile.ZipFile(io.BytesIO(bytes(pack.content))) as archive:
        archive.extractall(where)
    (where / "log-key.pem").write_bytes(signing.public_key_pem())
    return where


def _run_verify_txt(folder, venv) -> list[subprocess.CompletedProcess]:
    """Each ``$`` line of VERIFY.txt, as it stands, from the pack's folder, in a fresh venv
    (activated: its bin first on PATH) with no PYTHONPATH, so nothing but the standard library
    and the pack's own files can be imported."""
    commands = [
        line.strip()[2:]
        for line in (folder / "VERIFY.txt").read_text().splitlines()
        if line.strip().startswith("$ ")
    ]
    assert len(commands) == 3, commands
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(PATH=f"{venv}/bin:{env['PATH']}", VIRTUAL_ENV=str(venv))
    return [
        subprocess.run(
            ["bash", "-c", c], cwd=folder, env=env, capture_output=True, text=True, timeout=600
        )  # fmt: skip
        for c in commands
    ]


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    path = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run(["python3.11", "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def test_verify_txt_run_verbatim_in_a_fresh_venv_checks_every_signature_proof_and_hash(
    pack, venv, tmp_path
):
    folder = _unpacked(pack, tmp_path)
    results = _run_verify_txt(folder, venv)
    for result in results:
        assert result.returncode == 0, (result.args, result.stdout, result.stderr)
    summary = results[1].stdout
    assert f"log key fingerprint: {signing.key_id()}" in summary
    assert "documents: 4, reports: " in summary and "signed, and its signed note agrees" in summary
    assert "verified" in results[2].stdout
    # the fresh venv really lacks what the project uses: the pure Ed25519 check ran
    probe = subprocess.run([f"{venv}/bin/python", "-c", "import cryptography"], capture_output=True)
    assert probe.returncode != 0


@pytest.mark.parametrize("target", [r"documents/.*\.pdf", r"reports/\d+\.json"])
def test_one_byte_changed_in_a_document_or_a_report_fails_verify_txt(pack, venv, tmp_path, target):
    folder = _unpacked(pack, tmp_path)
    names = zipfile.ZipFile(io.BytesIO(bytes(pack.content))).namelist()
    name = sorted(n for n in names if re.fullmatch(target, n))[0]
    path = folder / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    manifest, check, _ = _run_verify_txt(folder, venv)
    assert manifest.returncode != 0 and check.returncode == 1
    # with the manifest rewritten to match, the ledger still refuses the file
    lines = (folder / "MANIFEST.sha256").read_text().splitlines()
    digest = hashlib.sha256(bytes(data)).hexdigest()
    (folder / "MANIFEST.sha256").write_text(
        "".join(
            f"{digest}  {name}\n" if line.endswith(f"  {name}") else line + "\n" for line in lines
        )  # fmt: skip
    )
    manifest, check, _ = _run_verify_txt(folder, venv)
    assert manifest.returncode == 0
    assert check.returncode == 1 and "matches no proven" in check.stderr, check.stderr


def test_the_pack_seals_first_so_every_document_and_event_has_a_proof(files, pack):
    index = json.loads(files["ledger-extract/events.json"])["events"]
    proofs = json.loads(files["proofs/inclusion-proofs.json"])["proofs"]
    assert len(proofs) == len(index) and all(e["leaf_index"] is not None for e in index)
    lines = [json.loads(line) for line in files["ledger-extract/events.jsonl"].splitlines()]
    issued = {e["after"]["reference"] for e in lines if e["event_type"] == "document.issued"}
    documents = {n.split("/")[1].removesuffix(".pdf") for n in files if n.startswith("documents/")}
    assert documents <= issued


def test_the_monitoring_reports_are_in_the_pack_as_hashed_and_as_pdfs(files, world):
    listed = json.loads(files["reports/index.json"])["reports"]
    assert {r["id"] for r in listed} == {r.pk for r in world.reports}
    for entry in listed:
        report = MonitoringReport.objects.get(pk=entry["id"])
        assert hashlib.sha256(files[entry["json"]]).hexdigest() == report.content_sha256
        assert hashlib.sha256(files[entry["pdf"]]).hexdigest() == entry["pdf_sha256"]
        assert report.content_sha256 in flat(files[entry["pdf"]])


def test_every_document_kind_prints_the_log_key_fingerprint(files):
    pdfs = [n for n in files if n.endswith(".pdf")]
    assert {n.split("/")[1].split("-")[0] for n in pdfs} >= {"SR117", "VAL", "AIA4", "CARD", "MON"}
    for name in pdfs:
        assert f"Log key fingerprint {signing.key_id()}" in flat(files[name]), name
    assert f"Log key fingerprint: {signing.key_id()}" in files["VERIFY.txt"].decode()
