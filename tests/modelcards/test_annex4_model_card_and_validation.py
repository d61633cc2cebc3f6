"""Annex IV's nine points, the model card's sections and the validation report's, as of 30 June:
before any validation, deployment, monitoring or oversight, so with their gaps."""

from __future__ import annotations

import pytest

from modelcards.documents import build, render
from modelcards.models import DocumentKind
from tests.modelcards.conftest import AS_OF, flat

pytestmark = pytest.mark.django_db

ANNEX_IV = [
    "1. A general description of the AI system",
    "1(a) Intended purpose, provider and version",
    "1(h) Instructions for use",
    "2. A detailed description of the elements of the AI system",
    "2(g) Validation and testing procedures, metrics and test logs",
    "2(h) Cybersecurity measures",
    "3. Monitoring, functioning and control of the AI system",
    "3.6 Automatic recording of events (Articles 12 and 19)",
    "4. Appropriateness of the performance metrics",
    "5. Risk management system (Article 9)",
    "6. Relevant changes made through the lifecycle",
    "7. Harmonised standards and other specifications applied",
    "8. EU declaration of conformity (Article 47)",
    "9. Post-market monitoring plan (Article 72(3))",
]
MODEL_CARD = [
    "1 Model Details",
    "2 Intended Use",
    "3 Factors",
    "4 Metrics",
    "5 Evaluation Data",
    "6 Training Data",
    "7 Quantitative Analyses",
    "8 Ethical Considerations",
    "9 Caveats and Recommendations",
]


def text_of(kind, model) -> str:
    return flat(render(build(kind, model, AS_OF)).content)


@pytest.fixture(scope="module")
def annex4(world):
    return text_of(DocumentKind.ANNEX4, world.model)


def test_annex_iv_has_its_nine_points_with_their_numbering(annex4):
    for heading in ANNEX_IV:
        assert heading in annex4


def test_annex_iv_2g_reports_discriminatory_impact(annex4):
    point = annex4.split("2(g) Validation and testing")[-1].split("2(h) Cybersecurity")[0]
    assert "Discriminatory impact" in point
    assert "Selection rates by sex" in point and "four-fifths" in point


def test_annex_iv_describes_the_logging_from_the_ledger(annex4):
    logging = annex4.split("3.6 Automatic recording of events")[-1]
    assert "append-only ledger" in logging
    assert "Decisions of version 1.0.0 600" in logging
    assert "Latest signed checkpoint" in logging


def test_annex_iv_prints_each_missing_point_as_a_gap(annex4):
    assert "GAP No EU declaration of conformity on file" in annex4
    assert "GAP No post-market monitoring plan on file" in annex4
    assert "GAP No fairness report on file for version 1.0.0 as of 2026-06-30" in annex4
    assert "GAP No active monitoring schedule on file as of 2026-06-30" in annex4
    assert "GAP No human oversight (override, reversal, confirmation or stop) recorded" in annex4
    assert "GAP No deployment of version 1.0.0 on file as of 2026-06-30" in annex4


def test_the_model_card_has_the_sections_of_mitchell_et_al(world):
    text = text_of(DocumentKind.MODELCARD, world.model)
    for heading in MODEL_CARD:
        assert heading in text
    assert "Retail credit scoring" in text and "age_band=18-24" in text
    assert "GAP No statement of ethical considerations on file" in text
    assert "GAP No fairness report on file for version 1.0.0 as of 2026-06-30" in text


def test_the_validation_report_names_what_is_missing(world):
    text = text_of(DocumentKind.VALIDATION, world.model)
    for heading in [
        "1 Scope of the validation",
        "2 Independence of the validation",
        "3 Conceptual soundness",
        "4 Ongoing monitoring",
        "5 Outcomes analysis",
        "6 Findings",
        "7 Conditions of approval",
        "8 Approvals and decision",
    ]:
        assert heading in text
    assert "GAP No validation report on file" in text
    assert "GAP No approval of version 1.0.0 on file as of 2026-06-30" in text
    assert "No findings recorded for this version as of 2026-06-30" in text
    assert "GAP No drift report on file for version 1.0.0 as of 2026-06-30" in text
    assert "Back-testing on the" in text
