"""Attack family: a key scoped to one model acts on another model's objects by naming them in
the body (issue #16, hole 4). The scope is checked against the object acted on, never against
what the body claims it is about."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from audit.models import GovernanceEvent, OutcomeRecord
from compliance.choices import KeyAction
from compliance.keys import issue_key
from compliance.models import AIModel
from tests.audit.conftest import outcome, prediction
from tests.compliance.test_workflow_support import new_version

OVERSIGHT = "/api/v1/oversight/"


@pytest.fixture
def collections(developer):
    """Model B: another model of the inventory, outside the attacker's key."""
    model = AIModel.objects.create(
        name="Collections", slug="collections", risk_tier=3, eu_ai_act_category="minimal"
    )
    model.developing_team.add(developer)
    new_version(model, developer, "0.1.0")
    return model


def post(api, user, url: str, body) -> object:
    return api.as_(user).post(url, json.dumps(body), content_type="application/json")


def log_prediction_of(api, service, slug: str, label: str) -> str:
    item = prediction(model=slug, version=label, decided_at=timezone.now().isoformat())
    if slug != "credit-scoring":
        item.pop("sensitive")
    response = post(api, service, "/api/v1/predictions/", item)
    assert response.status_code == 201, response.json()
    return item["event_id"]


def key_for_credit_scoring_only(api, service, ai_model, *actions: str):
    _, secret = issue_key(user=service, models=[ai_model], actions=actions, name="scoped to A")
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return api


def test_a_key_scoped_to_one_model_cannot_override_another_models_prediction(
    api, service, version, collections
):
    other = log_prediction_of(api, service, "collections", "0.1.0")
    client = key_for_credit_scoring_only(api, service, version.model, KeyAction.RECORD_OVERSIGHT)
    response = client.post(
        OVERSIGHT,
        {
            "action": "override",
            "model": "credit-scoring",
            "event_id": other,
            "decision": 0,
            "reason": "Claiming it is a credit-scoring prediction.",
            "person": "mallory",
        },
        format="json",
    )
    assert response.status_code == 403, response.json()
    assert "does not cover" in response.json()["detail"]
    assert not GovernanceEvent.objects.filter(event_type__startswith="oversight.").exists()


def test_a_key_scoped_to_one_model_cannot_confirm_another_models_prediction_without_naming_it(
    api, service, version, collections
):
    other = log_prediction_of(api, service, "collections", "0.1.0")
    client = key_for_credit_scoring_only(api, service, version.model, KeyAction.RECORD_OVERSIGHT)
    response = client.post(
        OVERSIGHT,
        {"action": "confirm", "event_id": other, "reason": "x", "person": "mallory"},
        format="json",
    )
    assert response.status_code == 403, response.json()
    assert not GovernanceEvent.objects.filter(event_type__startswith="oversight.").exists()


def test_an_oversight_naming_a_model_other_than_the_predictions_is_a_400_naming_model(
    api, service, risk_officer, version, collections
):
    other = log_prediction_of(api, service, "collections", "0.1.0")
    response = post(
        api,
        risk_officer,
        OVERSIGHT,
        {
            "action": "reverse",
            "model": "credit-scoring",
            "event_id": other,
            "reason": "The wrong model named.",
        },
    )
    assert response.status_code == 400, response.json()
    assert "model" in response.json()
    assert not GovernanceEvent.objects.filter(event_type__startswith="oversight.").exists()


def test_a_key_scoped_to_one_model_cannot_correct_another_models_outcome(
    api, service, version, collections
):
    """An outcome of model A's prediction may not claim to correct an outcome of model B's."""
    mine = log_prediction_of(api, service, "credit-scoring", "1.0.0")
    other = log_prediction_of(api, service, "collections", "0.1.0")
    observed = timezone.now().isoformat()
    theirs = outcome(other, observed_at=observed)
    assert post(api, service, "/api/v1/outcomes/", theirs).status_code == 201
    client = key_for_credit_scoring_only(api, service, version.model, KeyAction.LOG_OUTCOMES)
    response = client.post(
        "/api/v1/outcomes/",
        json.dumps(outcome(mine, observed_at=observed, corrects=theirs["outcome_id"])),
        content_type="application/json",
    )
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["errors"].keys() == {"corrects"}
    assert OutcomeRecord.objects.count() == 1


def test_a_key_scoped_to_one_model_cannot_stop_another_model_by_adding_its_own_prediction(
    api, service, version, collections, developer, risk_officer, validator, second_validator
):
    mine = log_prediction_of(api, service, "credit-scoring", "1.0.0")
    client = key_for_credit_scoring_only(api, service, version.model, KeyAction.RECORD_OVERSIGHT)
    response = client.post(
        OVERSIGHT,
        {
            "action": "stop",
            "model": "collections",
            "event_id": mine,
            "reason": "Stopping B behind A's prediction.",
            "person": "mallory",
        },
        format="json",
    )
    assert response.status_code == 403, response.json()
    assert not GovernanceEvent.objects.filter(event_type="oversight.stop").exists()
