"""The prediction dossier, and the two management commands."""

from __future__ import annotations

import zipfile
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.models import PredictionRecord
from modelcards.documents import issue
from modelcards.models import DocumentKind, IssuedDocument
from tests.audit.conftest import committed
from tests.modelcards.conftest import AS_OF, pdf_text

pytestmark = committed


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_a_dossier_gives_reason_codes_outcome_and_a_verified_receipt(credit_model, logged):
    record = PredictionRecord.objects.filter(favourable=False, outcomes__isnull=False).first()
    document = issue(DocumentKind.DOSSIER, credit_model, as_of=AS_OF, event_id=str(record.event_id))
    text = " ".join(pdf_text(document.content).split())
    assert str(record.event_id) in text
    assert "Principal reasons against the favourable decision" in text
    assert "Receipt: inclusion proof and checkpoint" in text
    assert "Proof verified when issued yes" in text
    assert "GAP No outcome logged" not in text
    assert document.reference.startswith(f"DOS-credit-scoring-{str(record.event_id)[:8]}-")


def test_a_dossier_before_the_decision_was_logged_is_refused(credit_model, logged):
    from modelcards.evidence import EvidenceError

    with pytest.raises(EvidenceError, match="after 2026-06-09"):
        issue(DocumentKind.DOSSIER, credit_model, as_of=AS_OF.replace(day=9), event_id=logged[0])


def test_generate_document_writes_the_pdf_and_names_its_reference(credit_model, logged, tmp_path):
    out = tmp_path / "sr117.pdf"
    output = run("generate_document", "--kind", "sr117", "--model", "credit-scoring",
                 "--version", "1.0.0", "--as-of", "2026-06-30", "--out", str(out))  # fmt: skip
    document = IssuedDocument.objects.get(kind="sr117")
    assert out.read_bytes() == bytes(document.content)
    assert document.reference in output and "coverage SR 11-7" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "sr117", "--model", "nope"], "No model 'nope'"),
        (["--kind", "sr117", "--model", "credit-scoring", "--as-of", "30/06/2026"], "YYYY-MM-DD"),
        (["--kind", "dossier", "--model", "credit-scoring"], "needs --event-id"),
        (["--kind", "sr117", "--model", "credit-scoring", "--version", "9.9"], "Version 9.9"),
    ],
)
def test_generate_document_refuses_bad_input_with_a_clear_message(credit_model, args, message):
    with pytest.raises(CommandError, match=message):
        run("generate_document", *args, "--out", "/dev/null")


def test_export_evidence_pack_writes_the_zip(credit_model, logged, tmp_path):
    out = tmp_path / "pack.zip"
    output = run("export_evidence_pack", "--model", "credit-scoring", "--as-of", "2026-06-30",
                 "--out", str(out))  # fmt: skip
    assert "Evidence pack PACK-credit-scoring-20260630-" in output
    with zipfile.ZipFile(out) as archive:
        assert "MANIFEST.sha256" in archive.namelist()
