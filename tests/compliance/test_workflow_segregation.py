"""Segregation of duties (SR 11-7 independence): nobody validates or approves a version they
registered or submitted, or of a model whose developing team they are on — enforced on the
server, through the API as well as in the functions."""

from __future__ import annotations

import datetime as dt

import pytest

from compliance import workflow
from compliance.choices import FindingStatus, Severity, VersionState
from compliance.models import ModelVersion, SegregationOfDutiesError
from tests.compliance.test_workflow_support import (
    developer_validator,
    in_validation,
    new_version,
    review,
)

RULE = (
    "Segregation of duties: nobody may validate or approve a version they registered or "
    "submitted, or of a model whose developing team they are on; "
)


@pytest.fixture
def dora(ai_model):
    """Developer and validator, on the model's developing team."""
    user = developer_validator("dora")
    ai_model.developing_team.add(user)
    return user


def test_a_validator_on_the_developing_team_cannot_approve(
    version, developer, validator, dora, api
):
    in_validation(version, developer, validator)
    with pytest.raises(SegregationOfDutiesError) as refused:
        workflow.approve_version(version, dora)
    assert str(refused.value) == RULE + "dora is on the developing team of credit-scoring."

    response = api.as_(dora).post(f"/api/v1/versions/{version.pk}/approve/", {})
    assert response.status_code == 403
    assert response.json() == {
        "detail": RULE + "dora is on the developing team of credit-scoring.",
        "rule": "segregation of duties",
    }


def test_whoever_registered_a_version_cannot_validate_it(ai_model, dora, developer, api):
    ai_model.developing_team.remove(dora)  # not the team: registering alone disqualifies
    version = new_version(ai_model, dora, "2.0.0")
    workflow.submit_version(version, developer)
    response = api.as_(dora).post(f"/api/v1/versions/{version.pk}/start-validation/", {})
    assert response.status_code == 403
    assert "dora registered credit-scoring 2.0.0" in response.json()["detail"]
    assert ModelVersion.objects.get(pk=version.pk).state == VersionState.SUBMITTED


def test_whoever_submitted_a_version_cannot_validate_it_even_after_leaving_the_team(
    version, ai_model, dora, api
):
    workflow.submit_version(version, dora)
    ai_model.developing_team.remove(dora)
    response = api.as_(dora).post(f"/api/v1/versions/{version.pk}/start-validation/", {})
    assert response.status_code == 403
    assert "dora submitted credit-scoring 1.0.0" in response.json()["detail"]


@pytest.mark.parametrize("action", ["start-validation", "approve", "reject"])
def test_every_validation_transition_checks_independence_through_the_api(
    version, developer, validator, dora, api, action
):
    workflow.submit_version(version, developer)
    if action != "start-validation":
        workflow.start_validation(version, validator)
    state = ModelVersion.objects.get(pk=version.pk).state
    response = api.as_(dora).post(
        f"/api/v1/versions/{version.pk}/{action}/", {"reason": "looks fine to me"}
    )
    assert response.status_code == 403
    assert response.json()["rule"] == "segregation of duties"
    assert ModelVersion.objects.get(pk=version.pk).state == state


def test_reviews_findings_and_conditions_need_independence_too(
    version, developer, validator, dora, api
):
    in_validation(version, developer, validator)
    client = api.as_(dora)
    base = f"/api/v1/versions/{version.pk}"
    bodies = {
        "reviews": {"scope": "All of it"},
        "findings": {
            "title": "Nothing",
            "description": "Nothing at all.",
            "severity": "low",
            "owner": "devon",
            "due_date": "2026-06-30",
        },
        "conditions": {"description": "Monitor monthly.", "due_date": "2026-06-30"},
    }
    for path, body in bodies.items():
        response = client.post(f"{base}/{path}/", body)
        assert response.status_code == 403, path
        assert response.json()["rule"] == "segregation of duties", path
    assert not version.reviews.exists() and not version.findings.exists()


def test_a_finding_is_closed_only_by_someone_independent(
    version, developer, validator, dora, risk_officer, ai_model
):
    in_validation(version, developer, validator)
    finding = workflow.record_finding(
        version,
        validator,
        title="Stale baseline",
        description="Baselines predate the last retraining.",
        severity=Severity.MEDIUM,
        owner=developer,
        due_date=dt.date(2026, 6, 30),
    )
    with pytest.raises(SegregationOfDutiesError, match="confirm the remediation of a finding"):
        workflow.resolve_finding(
            finding, dora, status=FindingStatus.REMEDIATED, resolution="I fixed it myself."
        )
    ai_model.developing_team.add(risk_officer)
    with pytest.raises(SegregationOfDutiesError, match="accept the risk of a finding"):
        workflow.resolve_finding(
            finding, risk_officer, status=FindingStatus.RISK_ACCEPTED, resolution="Fine."
        )


def test_the_queue_of_a_validator_never_holds_their_own_versions(
    ai_model, developer, validator, dora
):
    credit = new_version(ai_model, developer, "1.0.0")
    workflow.submit_version(credit, developer)
    collections = new_version(_other_model(ai_model), developer, "0.1.0")
    workflow.submit_version(collections, developer)

    assert set(ModelVersion.objects.awaiting(validator)) == {credit, collections}
    assert set(ModelVersion.objects.awaiting(dora)) == {collections}

    workflow.start_validation(credit, validator)
    review(credit, validator)
    workflow.approve_version(credit, validator)  # decided: no longer waiting for victor
    assert set(ModelVersion.objects.awaiting(validator)) == {collections}


def _other_model(ai_model):
    other = type(ai_model).objects.create(
        name="Collections prioritisation",
        slug="collections",
        risk_tier=3,
        eu_ai_act_category="minimal",
    )
    other.developing_team.add(*ai_model.developing_team.exclude(username="dora"))
    return other
