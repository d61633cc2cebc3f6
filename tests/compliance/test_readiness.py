"""The production-readiness scorecard: each question's rule on plain facts (no database), and
the facts read from a model driven through the real workflow."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from compliance import readiness
from compliance.models import AIModel
from compliance.readiness import ReadinessFacts
from tests.compliance.test_workflow_support import deployed, new_version

READY = ReadinessFacts(
    model="credit-scoring",
    champion="1.0.0",
    champion_has_previous=True,
    versions=["1.0.0"],
    schedules_within_24h=["Daily monitoring"],
    reports=3,
    champion_schema_features=6,
    champion_feature_pipeline="features-2025.12",
    latest_drift_report=True,
    challenger_deployments=1,
    predictions_logged=5000,
    last_verification_ok=True,
    monthly_cost=Decimal("1200.00"),
    owner="Rita Risk",
    documents=["Model card"],
    links={"deployments": "/admin/compliance/deployment/?model__id__exact=1"},
)


def answer(key: str, **changes):
    facts = dataclasses.replace(READY, **changes)
    (found,) = [a for a in readiness.scorecard(facts) if a.key == key]
    return found


def test_a_model_with_all_the_evidence_answers_yes_ten_times():
    answers = readiness.scorecard(READY)
    assert len(answers) == 10 and all(a.yes for a in answers), [a for a in answers if not a.yes]
    assert len({a.question for a in answers}) == 10


def test_deploy_and_roll_back_needs_a_champion_and_something_to_roll_back_to():
    assert answer("deploy").url == "/admin/compliance/deployment/?model__id__exact=1"
    assert "No champion" in answer("deploy", champion=None).detail
    first = answer("deploy", champion_has_previous=False)
    assert not first.yes and "no earlier champion" in first.detail
    assert answer("deploy", champion_has_previous=False, rollbacks=1).yes


def test_reproducible_needs_every_versions_file():
    assert not answer("reproduce", versions=[]).yes
    gap = answer("reproduce", versions=["1.0.0", "1.1.0"], versions_without_artifact=["1.1.0"])
    assert not gap.yes and "1.1.0" in gap.detail


def test_degradation_within_a_day_needs_a_daily_schedule_that_has_run():
    assert not answer("degrade", schedules_within_24h=[]).yes
    assert "has not run yet" in answer("degrade", reports=0).detail


def test_features_identical_needs_a_clean_drift_report_and_no_schema_alerts():
    assert not answer("features", champion=None).yes
    assert not answer("features", latest_drift_report=False).yes
    drifted = answer("features", latest_drift_failures=["income"])
    assert not drifted.yes and "income" in drifted.detail
    assert "schema-violation" in answer("features", open_schema_alerts=2).detail


def test_data_validation_needs_an_input_schema_with_named_features():
    assert not answer("validation", champion_schema_features=0).yes
    assert "6 features" in answer("validation").detail


def test_canary_or_shadow_needs_a_challenger_deployment():
    assert not answer("canary", challenger_deployments=0).yes


def test_audit_trail_needs_sealed_predictions_and_a_passing_verification():
    assert not answer("trail", predictions_logged=0).yes
    assert "never been verified" in answer("trail", last_verification_ok=None).detail
    assert "failed" in answer("trail", last_verification_ok=False).detail
    assert "5,000 predictions" in answer("trail").detail


def test_cost_needs_a_monthly_cost():
    assert not answer("cost", monthly_cost=None).yes
    assert answer("cost").detail == "1,200.00 a month."


def test_one_owner_needs_a_business_owner():
    assert not answer("owner", owner=None).yes


def test_documentation_needs_an_issued_document():
    assert not answer("docs", documents=[]).yes


@pytest.mark.django_db
def test_facts_come_from_the_workflow_and_the_inventory(
    ai_model: AIModel, developer, risk_officer, validator, second_validator
):
    assert not any(a.yes for a in readiness.scorecard(readiness.facts(ai_model))[:1])
    deployed(
        new_version(ai_model, developer, "1.0.0"),
        developer,
        risk_officer,
        validator,
        second_validator,
    )
    deployed(
        new_version(ai_model, developer, "1.1.0"),
        developer,
        risk_officer,
        validator,
        second_validator,
        environment="shadow",
    )
    ai_model.monthly_cost = Decimal("950.00")
    ai_model.save()
    facts = readiness.facts(ai_model)
    assert facts.champion == "1.0.0" and not facts.champion_has_previous
    assert facts.challenger_deployments == 1
    assert facts.versions == ["1.0.0", "1.1.0"]
    assert facts.versions_without_artifact == ["1.0.0", "1.1.0"]
    assert facts.owner == "rita" and facts.monthly_cost == Decimal("950.00")
    assert facts.champion_schema_features == 2
    answers = {a.key: a for a in readiness.scorecard(facts)}
    assert answers["canary"].yes and answers["cost"].yes and answers["owner"].yes
    assert answers["validation"].yes
    assert not answers["deploy"].yes and not answers["trail"].yes and not answers["docs"].yes
    assert answers["cost"].url == f"/admin/compliance/aimodel/{ai_model.pk}/change/"
