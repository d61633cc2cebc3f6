"""The SR 11-7 model documentation as of 30 June, read back with pdftotext, and the command that
issues it."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from modelcards.documents import build, context, issue
from modelcards.models import DocumentKind, IssuedDocument, ModelNarrative
from modelcards.rendering import render_html
from tests.modelcards.conftest import AS_OF, flat, pdf_text

pytestmark = pytest.mark.django_db

SECTIONS = [
    "Contents",
    "0 Evidence coverage",
    "1 Purpose and intended use",
    "2 Model design, theory and logic",
    "3 Data",
    "4 Testing and performance",
    "4.4 Inputs against the training baseline",
    "5 Limitations and assumptions",
    "6 Implementation",
    "7 Use and controls",
    "8 Ongoing monitoring plan",
    "8.1 Schedule and thresholds",
    "8.3 Latest fairness results",
    "9 Model inventory entry",
    "9.2 Tier and its rationale",
    "10 Governance record",
]


@pytest.fixture(scope="module")
def document(world) -> IssuedDocument:
    """Issued once for the module (rendered, stored and recorded in the ledger)."""
    return issue(DocumentKind.SR117, world.model, as_of=AS_OF)


@pytest.fixture(scope="module")
def text(document) -> str:
    return flat(document.content)


def test_it_has_every_section_of_sr_11_7_with_its_number(text):
    for heading in SECTIONS:
        assert heading in text


def test_it_prints_the_real_model_version_and_metrics(text, demo_version):
    assert "Retail credit scoring" in text
    assert "1.0.0" in text
    assert demo_version.manifest_sha256 in text
    assert f"{demo_version.evaluation_metrics['roc_auc']:.4f}" in text
    assert "Tier 1 – high materiality" in text


def test_it_computes_group_rates_and_back_testing_from_the_ledger(text):
    assert "Selection rates by sex" in text
    assert "sex=F" in text and "age_band=60+" in text
    assert "Back-testing on the" in text
    assert "600 decisions" in text or "600 most recent" in text


def test_it_draws_the_importance_drift_and_group_charts(text):
    assert "Global feature importance (mean |SHAP|)" in text
    assert "Population stability index against the training baseline" in text
    assert "Selection rate by age_band" in text and "four-fifths of highest" in text
    assert "debt_to_income" in text


def test_missing_evidence_is_printed_as_a_gap_and_counted(text, document):
    assert "GAP No statement of limitations on file" in text
    assert "GAP No validation report on file" in text
    assert "GAP No active monitoring schedule on file as of 2026-06-30" in text
    assert "GAP No fairness report on file for version 1.0.0 as of 2026-06-30" in text
    assert "GAP No performance report on file for version 1.0.0 as of 2026-06-30" in text
    coverage = document.coverage["frameworks"][0]
    assert coverage["present"] + len(coverage["gaps"]) == coverage["required"]
    assert f"{coverage['present']} of {coverage['required']} items required by SR 11-7" in text


def test_the_footer_carries_model_version_date_reference_and_page_numbers(document):
    pages = pdf_text(document.content).split("\f")[:-1]
    assert len(pages) == document.pages
    for number, page in enumerate(pages, 1):
        assert f"Page {number} of {document.pages}" in page
        assert "Retail credit scoring · version 1.0.0 · as of 2026-06-30" in page
        assert f"Ref. {document.reference}" in page


def test_a_narrative_written_fills_its_gap_and_raises_the_coverage(credit_model, document):
    before = document.coverage["frameworks"][0]["present"]
    with time_machine.travel(dt.datetime(2026, 6, 15, tzinfo=dt.UTC)):
        ModelNarrative.objects.create(
            model=credit_model, limitations="Not for small-business lending; thin files score low."
        )
    after = build(DocumentKind.SR117, credit_model, AS_OF)
    assert after.coverage.present == before + 1
    html = render_html(after.spec.template, context(after))  # as render() lays it out
    assert "Not for small-business lending" in html
    assert "No statement of limitations on file" not in html


def test_generate_document_writes_the_pdf_and_names_its_reference(document, tmp_path):
    out = tmp_path / "sr117.pdf"
    output = StringIO()
    call_command("generate_document", "--kind", "sr117", "--model", "credit-scoring",
                 "--version", "1.0.0", "--as-of", "2026-06-30", "--out", str(out),
                 stdout=output)  # fmt: skip
    assert out.read_bytes() == bytes(document.content)  # the one issued, not a second copy
    assert IssuedDocument.objects.filter(kind="sr117").count() == 1
    assert document.reference in output.getvalue()
    assert "coverage SR 11-7" in output.getvalue()
