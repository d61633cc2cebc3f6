"""The demo credit-scoring model with logged decisions, and how to read a PDF back."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
import time_machine

from audit.sequencer import seal_all
from compliance import demo
from compliance.choices import AnnexIIIArea, EUAIActCategory, RiskTier
from compliance.models import AIModel, ModelVersion
from modelcards.demo import log_decisions

REGISTERED = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
LOGGED = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)  # when the decisions reach the ledger
AS_OF = dt.date(2026, 6, 30)


def pdf_text(content: bytes) -> str:
    """The text of a PDF as pdftotext reads it (poppler-utils: see the Makefile)."""
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=bytes(content), capture_output=True, check=True
    )
    return result.stdout.decode()


def pdf_info(content: bytes) -> str:
    result = subprocess.run(["pdfinfo", "-"], input=bytes(content), capture_output=True, check=True)
    return result.stdout.decode()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory):
    """The demo model trained once per run on 4,000 rows; its bundle fields."""
    trained = demo.train(4000)
    bundle = demo.save_artifacts(trained, tmp_path_factory.mktemp("artifacts"), "1.0.0")
    return {
        **bundle,
        "configuration": {"C": 1.0, "max_iter": 500, "solver": "lbfgs"},
        "evaluation_metrics": trained.metrics,
        "baselines": demo.baselines(trained),
    }


@pytest.fixture
def credit_model(db, risk_officer, developer, artifacts):
    with time_machine.travel(REGISTERED, tick=False):
        model = AIModel.objects.create(
            name="Retail credit scoring",
            slug="credit-scoring",
            description="Scores applications for unsecured personal loans.",
            intended_purpose="Estimate the probability that an applicant repays the loan.",
            intended_users="Retail credit underwriters.",
            domain="Retail credit",
            business_owner=risk_officer,
            risk_tier=RiskTier.HIGH,
            eu_ai_act_category=EUAIActCategory.HIGH_RISK,
            annex_iii_area=AnnexIIIArea.ESSENTIAL_SERVICES,
            sensitive_attributes=["sex", "age_band"],
        )
        model.developing_team.add(developer)
        ModelVersion.objects.create(
            model=model,
            label="1.0.0",
            feature_pipeline_version="features-2025.12",
            input_schema=demo.input_schema(),
            code_commit="3f2c1e9",
            created_by=developer,
            **artifacts,
        )
    return model


@pytest.fixture
def demo_version(credit_model) -> ModelVersion:
    return credit_model.versions.get(label="1.0.0")


@pytest.fixture
def logged(demo_version) -> list[str]:
    """600 decisions of June 2026 (about 60% with outcomes), logged and sealed on 10 June."""
    with time_machine.travel(LOGGED, tick=False):
        ids = log_decisions(
            demo_version, 600, start=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), days=8, explain=True
        )
        seal_all()
    return ids
