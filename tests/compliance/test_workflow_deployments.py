"""Deployments: only approved versions, one champion per environment, rollback in one step, and
ingest flags predictions of anything but the deployed, approved version."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.ingest import _versions
from audit.models import PredictionRecord
from compliance import workflow
from compliance.choices import DeploymentRole, VersionState
from compliance.models import Deployment, ModelVersion, RuleViolation
from compliance.serving import ServingHistory
from tests.audit.conftest import prediction
from tests.compliance.test_workflow_support import (
    approved,
    assert_event,
    deployed,
    in_validation,
    new_version,
)


@pytest.fixture
def team(developer, risk_officer, validator, second_validator):
    """deploy(version, **kwargs): approve it and deploy it (to production by default)."""

    def deploy(version, **kwargs):
        return deployed(version, developer, risk_officer, validator, second_validator, **kwargs)

    return deploy


def active(model, environment="production"):
    return list(
        Deployment.objects.active()
        .filter(model=model, environment=environment)
        .values_list("version__label", "role")
    )


def test_deploying_a_version_that_is_not_approved_is_refused(
    api, version, developer, validator, risk_officer
):
    in_validation(version, developer, validator)
    response = api.as_(risk_officer).post(
        f"/api/v1/versions/{version.pk}/deploy/", {"reason": "urgent"}
    )
    assert response.status_code == 409
    assert response.json()["detail"].startswith(
        "Cannot deploy credit-scoring 1.0.0: it is in validation;"
    )
    assert not Deployment.objects.exists()


def test_a_new_champion_replaces_the_old_and_a_rollback_restores_it_in_one_step(
    api, version, ai_model, developer, risk_officer, team
):
    first = team(version)
    second = team(new_version(ai_model, developer, "1.1.0"))
    first.refresh_from_db()
    assert active(ai_model) == [("1.1.0", "champion")]
    assert (second.previous, first.end_reason) == (
        first,
        "replaced by credit-scoring 1.1.0: go-live of 1.1.0",
    )

    response = api.as_(risk_officer).post(
        f"/api/v1/models/{ai_model.slug}/rollback/",
        {"environment": "production", "reason": "Complaints about declines doubled."},
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["version"], response.json()["role"]) == ("1.0.0", "champion")
    assert active(ai_model) == [("1.0.0", "champion")]
    second.refresh_from_db()
    assert second.end_reason == "rolled back: Complaints about declines doubled."
    assert second.ended_by == risk_officer
    restored = Deployment.objects.active().get(model=ai_model)
    assert_event(
        "deployment.rolled_back",
        actor="rita",
        before={
            "deployment": second.pk,
            "version": "1.1.0",
            "environment": "production",
            "role": "champion",
        },
        after={"deployment": restored.pk, "version": "1.0.0"},
        reason="Complaints about declines doubled.",
        obj=restored,
    )


def test_each_rollback_steps_back_once_more_until_there_is_nothing_before(
    version, ai_model, developer, risk_officer, team
):
    team(version)
    team(new_version(ai_model, developer, "1.1.0"))
    team(new_version(ai_model, developer, "1.2.0"))
    workflow.rollback(ai_model, "production", risk_officer, "1.2.0 misbehaves")
    assert active(ai_model) == [("1.1.0", "champion")]
    workflow.rollback(ai_model, "production", risk_officer, "so does 1.1.0")
    assert active(ai_model) == [("1.0.0", "champion")]
    with pytest.raises(workflow.IllegalTransition, match="replaced no earlier champion"):
        workflow.rollback(ai_model, "production", risk_officer, "and 1.0.0?")


def test_a_rollback_needs_a_champion_a_reason_and_an_approved_predecessor(
    version, ai_model, developer, risk_officer, team
):
    with pytest.raises(workflow.IllegalTransition, match="has no active champion there"):
        workflow.rollback(ai_model, "production", risk_officer, "nothing deployed")
    team(version)
    team(new_version(ai_model, developer, "1.1.0"))
    with pytest.raises(workflow.ValidationError, match="Say why"):
        workflow.rollback(ai_model, "production", risk_officer, "")
    with time_machine.travel(timezone.now() + dt.timedelta(days=400)):
        with pytest.raises(RuleViolation, match="its approval expired on"):
            workflow.rollback(ai_model, "production", risk_officer, "back to the old one")
    assert active(ai_model) == [("1.1.0", "champion")]


def test_the_database_holds_one_active_champion_per_model_and_environment(
    version, ai_model, developer, risk_officer, validator, second_validator, team
):
    current = team(version)
    other = new_version(ai_model, developer, "1.1.0")
    approved(other, developer, validator, second_validator)
    with pytest.raises(IntegrityError), transaction.atomic():
        Deployment.objects.create(
            model=ai_model,
            version=other,
            environment="production",
            role=DeploymentRole.CHAMPION,
            deployed_by=risk_officer,
            deployed_at=current.deployed_at,
            reason="behind the workflow's back",
        )


def test_a_challenger_runs_beside_the_champion_and_can_be_promoted(
    version, ai_model, developer, risk_officer, team
):
    team(version)
    challenger = team(new_version(ai_model, developer, "2.0.0"), environment="shadow")
    assert challenger.role == DeploymentRole.CHALLENGER
    assert active(ai_model, "shadow") == [("2.0.0", "challenger")]
    assert active(ai_model) == [("1.0.0", "champion")]

    promoted = workflow.deploy_version(
        challenger.version, risk_officer, environment="shadow", role="champion", reason="promote"
    )
    assert active(ai_model, "shadow") == [("2.0.0", "champion")]
    with pytest.raises(workflow.IllegalTransition, match="already the champion in shadow"):
        workflow.deploy_version(
            promoted.version, risk_officer, environment="shadow", role="champion", reason="again"
        )


def test_a_version_that_serves_cannot_be_retired(api, version, risk_officer, team):
    team(version)
    response = api.as_(risk_officer).post(
        f"/api/v1/versions/{version.pk}/retire/", {"reason": "old"}
    )
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Serving versions stay: credit-scoring 1.0.0 is the champion in production; deploy "
        "another version or roll back first."
    )
    assert ModelVersion.objects.get(pk=version.pk).state == VersionState.APPROVED


def post_prediction(api, service, **overrides) -> PredictionRecord:
    """Log a decision made now (approval is judged when it was decided)."""
    item = prediction(**{"decided_at": timezone.now().isoformat(), **overrides})
    response = api.as_(service).post(
        "/api/v1/predictions/", json.dumps(item), content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    return PredictionRecord.objects.get(event_id=item["event_id"])


def test_a_prediction_of_the_deployed_approved_version_is_not_flagged(
    api, service, version, ai_model, developer, risk_officer, team
):
    assert post_prediction(api, service).unapproved_version  # a draft: flagged
    team(version)
    assert not post_prediction(api, service).unapproved_version
    shadow = post_prediction(api, service, context={"environment": "shadow"})
    assert shadow.unapproved_version  # deployed to production only

    team(new_version(ai_model, developer, "1.1.0"))
    assert post_prediction(api, service).unapproved_version  # 1.0.0 was replaced
    assert not post_prediction(api, service, version="1.1.0").unapproved_version


def test_serving_stops_counting_as_approved_when_the_approval_expires(version, team):
    team(version)
    fresh = ModelVersion.objects.get(pk=version.pk)
    serving = ServingHistory(fresh.pk, "production")
    assert serving.approved(timezone.now())
    assert not serving.approved(fresh.approval_expires_at + dt.timedelta(seconds=1))


def test_ingest_reads_a_version_in_one_query_and_its_serving_history_in_two(version, team):
    """Ingest's hand-written read gives the values the ORM gives (converted as the ORM
    converts them); the bundle's JSON is read only when asked for. Whether it served
    approved is then two queries per version and environment, whatever the batch's size."""
    team(version)
    key = (version.model.slug, version.label)
    with CaptureQueriesContext(connection) as queries:
        read = _versions({key, ("nope", version.label)})
    assert len(queries) == 1 and list(read) == [key]
    read, orm = read[key], ModelVersion.objects.select_related("model").get(pk=version.pk)
    for name in ("pk", "label", "state", "approval_expires_at", "manifest_sha256"):
        assert getattr(read, name) == getattr(orm, name), name
    assert read.model.favourable_value == orm.model.favourable_value
    with CaptureQueriesContext(connection) as queries:
        production, shadow = (
            ServingHistory(read.pk, "production"),
            ServingHistory(read.pk, "shadow"),
        )
    assert len(queries) == 4
    now = timezone.now()
    assert production.approved(now) and not shadow.approved(now)
    assert not production.approved(read.approval_expires_at + dt.timedelta(seconds=1))
    assert read.input_schema == orm.input_schema  # deferred: read now


def test_the_deployments_of_a_model_are_listed_active_first(
    api, auditor, service, version, ai_model, developer, team
):
    team(version)
    team(new_version(ai_model, developer, "1.1.0"))
    response = api.as_(auditor).get(f"/api/v1/models/{ai_model.slug}/deployments/")
    assert response.status_code == 200
    rows = [(d["version"], d["active"]) for d in response.json()["results"]]
    assert rows == [("1.1.0", True), ("1.0.0", False)]
    assert api.as_(service).get(f"/api/v1/models/{ai_model.slug}/deployments/").status_code == 403
    assert api.as_(auditor).get("/api/v1/models/nope/deployments/").status_code == 404
