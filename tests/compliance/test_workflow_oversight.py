"""Human oversight (EU AI Act Art. 14): a person overrides, reverses or confirms a logged
prediction, or stops a model; each is a ledger event; the override rate feeds the reports."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import GovernanceEvent, PredictionRecord
from compliance import workflow
from compliance.models import Deployment
from tests.audit.conftest import prediction
from tests.compliance.test_workflow_support import assert_event, deployed

URL = "/api/v1/oversight/"


def logged(api, service, **overrides) -> str:
    item = prediction(**overrides)
    response = api.as_(service).post(
        "/api/v1/predictions/", json.dumps(item), content_type="application/json"
    )
    assert response.status_code == 201, response.json()
    return item["event_id"]


def test_a_risk_officer_overrides_a_prediction_by_its_event_id(api, service, risk_officer, version):
    event_id = logged(api, service)
    response = api.as_(risk_officer).post(
        URL,
        {
            "action": "override",
            "event_id": event_id,
            "decision": 0,
            "reason": "Income was misread from the payslip.",
        },
    )
    assert response.status_code == 201, response.json()
    record = PredictionRecord.objects.get(event_id=event_id)
    event = assert_event(
        "oversight.override",
        actor="rita",
        before={"decision": 1},
        after={"prediction": event_id, "version": "1.0.0", "person": "rita", "decision": 0},
        reason="Income was misread from the payslip.",
        obj=record,
    )
    assert response.json()["id"] == event.pk
    assert event.model_id == version.model_id


def test_a_service_account_records_on_behalf_of_a_named_person(api, service, version):
    event_id = logged(api, service)
    client = api.as_(service)
    body = {"action": "confirm", "event_id": event_id, "reason": "Checked the documents."}
    refused = client.post(URL, body)
    assert refused.status_code == 400
    assert "person" in refused.json()
    assert client.post(URL, {**body, "person": "uma.underwriter"}).status_code == 201
    assert_event("oversight.confirm", actor="scoring-service", after={"person": "uma.underwriter"})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "override", "reason": "x"}, "event_id"),
        (
            {
                "action": "override",
                "event_id": "7d2b0a4e-0000-4000-8000-000000000000",
                "reason": "x",
                "decision": 0,
            },
            "event_id",
        ),
        ({"action": "stop", "reason": "x"}, "model"),
        ({"action": "veto", "reason": "x"}, "action"),
        ({"action": "confirm", "event_id": "not-a-uuid", "reason": "x"}, "event_id"),
    ],
)
def test_bad_oversight_input_is_a_400_naming_the_field(api, risk_officer, db, body, field):
    response = api.as_(risk_officer).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_an_override_names_the_decision_that_replaces_the_models(
    api, service, risk_officer, version
):
    event_id = logged(api, service)
    response = api.as_(risk_officer).post(
        URL, {"action": "override", "event_id": event_id, "reason": "wrong"}
    )
    assert response.status_code == 400
    assert "decision" in response.json()


@pytest.mark.parametrize("persona", ["validator", "auditor", "developer", "outsider"])
def test_only_risk_officers_and_service_accounts_record_oversight(api, request, persona, db):
    response = api.as_(request.getfixturevalue(persona)).post(
        URL, {"action": "stop", "model": "credit-scoring", "reason": "x"}
    )
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Only risk officers and service accounts may record human oversight."
    )
    assert APIClient().post(URL, {}).status_code == 401


def test_stopping_a_model_ends_its_deployments_and_later_predictions_are_flagged(
    api, service, version, developer, risk_officer, validator, second_validator
):
    deployment = deployed(version, developer, risk_officer, validator, second_validator)
    before_stop = timezone.now().isoformat()
    assert not PredictionRecord.objects.get(
        event_id=logged(api, service, decided_at=before_stop)
    ).unapproved_version

    response = api.as_(risk_officer).post(
        URL, {"action": "stop", "model": "credit-scoring", "reason": "Scores all 0.5 since 9:40."}
    )
    assert response.status_code == 201
    assert not Deployment.objects.active().exists()
    deployment.refresh_from_db()
    assert deployment.end_reason == "stopped by rita: Scores all 0.5 since 9:40."
    assert_event(
        "oversight.stop",
        actor="rita",
        before={
            "deployments": [
                {
                    "deployment": deployment.pk,
                    "version": "1.0.0",
                    "environment": "production",
                    "role": "champion",
                }
            ]
        },
        after={"deployments": [], "person": "rita"},
    )
    flagged = logged(api, service, decided_at=timezone.now().isoformat())
    assert PredictionRecord.objects.get(event_id=flagged).unapproved_version
    # Judged when decided: a decision made before the stop and logged after it is not flagged.
    late = logged(api, service, decided_at=before_stop)
    assert not PredictionRecord.objects.get(event_id=late).unapproved_version


def test_the_override_rate_counts_each_overridden_prediction_once_in_its_window(
    api, service, risk_officer, version
):
    day = "2026-11-20T10:{:02d}:00Z"
    ids = [logged(api, service, decided_at=day.format(minute)) for minute in range(4)]
    outside = logged(api, service, decided_at="2026-12-02T10:00:00Z")

    def act(action, event_id, **extra):
        workflow.record_oversight(risk_officer, action, event_id=event_id, reason="review", **extra)

    act("override", ids[0], decision=0)
    act("override", ids[0], decision=1)  # changed their mind: still one prediction overridden
    act("reverse", ids[1])
    act("confirm", ids[2])
    act("override", outside, decision=0)

    november = (dt.datetime(2026, 11, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    rate = workflow.override_rate(version.model, *november)
    assert (rate.predictions, rate.overridden, rate.rate) == (4, 2, 0.5)
    empty = workflow.override_rate(
        version.model,
        dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2025, 2, 1, tzinfo=dt.UTC),
    )
    assert (empty.predictions, empty.rate) == (0, None)
    assert GovernanceEvent.objects.filter(event_type__startswith="oversight.").count() == 5
