"""Documents read a risk score the way its version declares it (issue 17, point 5): the
back-testing of a probability of default is that of the risk against the defaults, and the
document says which outcome the score is the probability of."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sklearn.metrics import roc_auc_score

from compliance.choices import EUAIActCategory, RiskTier, ScoreOf
from compliance.models import AIModel, ModelVersion
from modelcards.documents import build, issue
from modelcards.models import DocumentKind
from tests.compliance.test_report_scenarios import log
from tests.compliance.test_score_direction import direct_ece, risk_rows
from tests.conftest import bundle
from tests.modelcards.conftest import pdf_text

pytestmark = pytest.mark.django_db


READ = dt.date(2026, 11, 11)  # the day after the week of tests.compliance.test_report_scenarios


@pytest.fixture
def logged_risk(risk_officer, developer):
    """A probability-of-default model, 2,000 of its decisions logged with their outcomes."""
    model = AIModel.objects.create(
        name="Retail default risk",
        slug="default-risk",
        risk_tier=RiskTier.HIGH,
        eu_ai_act_category=EUAIActCategory.HIGH_RISK,
        annex_iii_area="essential_services",
        sensitive_attributes=["sex"],
        business_owner=risk_officer,
    )
    fields = bundle(score_of=ScoreOf.UNFAVOURABLE)
    fields["training_date_from"] = dt.date(2024, 1, 1)
    fields["training_date_to"] = dt.date(2025, 12, 31)
    version = ModelVersion.objects.create(model=model, created_by=developer, **fields)
    rows, risk, default = risk_rows(n=2000)
    with time_machine.travel(dt.datetime(2026, 11, 11, 9, tzinfo=dt.UTC), tick=True):
        log(version, rows)
        yield version, risk, default


def test_the_back_testing_of_a_risk_score_is_that_of_the_risk_against_the_defaults(logged_risk):
    version, risk, default = logged_risk
    built = build(DocumentKind.MODELCARD, version.model, READ)
    performance = built.evidence["analytics"]["performance"]
    assert performance["n_with_outcome"] == len(risk)
    assert performance["roc_auc"] == pytest.approx(roc_auc_score(default, risk), abs=1e-9)
    assert performance["expected_calibration_error"] == pytest.approx(
        direct_ece(default, risk), abs=1e-9
    )
    assert built.evidence["version"]["score_of"] == "unfavourable"


def test_the_document_prints_which_outcome_the_score_is_the_probability_of(logged_risk):
    version, risk, default = logged_risk
    document = issue(DocumentKind.MODELCARD, version.model, as_of=READ)
    text = " ".join(pdf_text(document.content).split())
    assert "the probability of the unfavourable outcome (a risk)" in text
    assert "one minus the score as the probability of the favourable outcome" in text
    auc = f"{roc_auc_score(default, risk):.4f}"
    assert auc in text and f"{1 - float(auc):.4f}" not in text
