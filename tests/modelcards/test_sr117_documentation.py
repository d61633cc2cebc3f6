"""The SR 11-7 model documentation, read back with pdftotext."""

from __future__ import annotations

import pytest

from modelcards.documents import build, issue, render
from modelcards.models import DocumentKind, ModelNarrative
from tests.audit.conftest import committed
from tests.modelcards.conftest import AS_OF, pdf_text

pytestmark = committed

SECTIONS = [
    "Contents",
    "0 Evidence coverage",
    "1 Purpose and intended use",
    "2 Model design, theory and logic",
    "3 Data",
    "4 Testing and performance",
    "5 Limitations and assumptions",
    "6 Implementation",
    "7 Use and controls",
    "8 Ongoing monitoring plan",
    "9 Model inventory entry",
    "9.2 Tier and its rationale",
    "10 Governance record",
]


@pytest.fixture
def text(credit_model, logged):
    document = issue(DocumentKind.SR117, credit_model, as_of=AS_OF)
    return " ".join(pdf_text(document.content).split())


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


def test_it_draws_the_importance_and_drift_charts(text):
    assert "Global feature importance (mean |SHAP|)" in text
    assert "Population stability index against the training baseline" in text
    assert "debt_to_income" in text


def test_missing_evidence_is_printed_as_a_gap_and_counted(text):
    assert "GAP No statement of limitations on file" in text
    assert "GAP No validation report on file" in text
    assert "GAP No performance report on file" in text
    assert "GAP No monitoring schedule on file" in text


def test_the_footer_carries_model_version_date_reference_and_page_numbers(credit_model, logged):
    document = issue(DocumentKind.SR117, credit_model, as_of=AS_OF)
    text = pdf_text(document.content)
    pages = text.split("\f")[:-1]
    assert len(pages) == document.pages
    for number, page in enumerate(pages, 1):
        assert f"Page {number} of {document.pages}" in page
        assert "Retail credit scoring · version 1.0.0 · as of 2026-06-30" in page
        assert f"Ref. {document.reference}" in page


def test_a_narrative_written_fills_its_gap_and_raises_the_coverage(credit_model, logged):
    before = build(DocumentKind.SR117, credit_model, AS_OF).coverage
    ModelNarrative.objects.create(
        model=credit_model, limitations="Not for small-business lending; thin files score low."
    )
    after = build(DocumentKind.SR117, credit_model, AS_OF.replace(year=2027))
    assert after.coverage.present == before.present + 1
    text = " ".join(pdf_text(render(after).content).split())
    assert "Not for small-business lending" in text
    assert "No statement of limitations on file" not in text
