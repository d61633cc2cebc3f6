"""Scoped API keys: issued and revoked through compliance.keys (ledger events), enforced on
the server on top of the owner's role."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from audit.models import GovernanceEvent, OutcomeRecord, PredictionRecord
from compliance.api.authentication import key_with_user
from compliance.choices import EUAIActCategory, KeyAction, RiskTier
from compliance.keys import issue_key, revoke_key
from compliance.models import AIModel, ModelVersion, UserAPIKey
from tests.audit.conftest import outcome, prediction

LOG = [KeyAction.LOG_PREDICTIONS, KeyAction.LOG_OUTCOMES]


@pytest.fixture
def other_model(db, risk_officer):
    return AIModel.objects.create(
        name="Fraud screening",
        slug="fraud-screening",
        risk_tier=RiskTier.LOW,
        eu_ai_act_category=EUAIActCategory.MINIMAL,
        business_owner=risk_officer,
    )


@pytest.fixture
def other_version(other_model, version):
    fields = {f: getattr(version, f) for f in ModelVersion.BUNDLE_FIELDS}
    return ModelVersion.objects.create(model=other_model, created_by=version.created_by, **fields)


def client_with(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client


def test_issuing_a_key_is_a_ledger_event_with_its_scope_and_never_its_secret(
    service, ai_model, risk_officer
):
    key, secret = issue_key(
        user=service, models=[ai_model], actions=LOG, actor=risk_officer, reason="production"
    )
    event = GovernanceEvent.objects.get(event_type="api_key.issued")
    assert (event.actor, event.actor_name, event.object_id) == (risk_officer, "rita", key.prefix)
    assert event.after["models"] == ["credit-scoring"]
    assert event.after["actions"] == ["log_outcomes", "log_predictions"]
    assert event.reason == "production"
    canonical = bytes(event.entry.canonical).decode()
    assert secret.partition(".")[2] not in canonical and key.hashed_key not in canonical


def test_revoking_a_key_is_a_ledger_event_and_the_key_stops_working(service, ai_model, version):
    key, secret = issue_key(user=service, models=[ai_model], actions=LOG)
    revoke_key(key, reason="rotated")
    event = GovernanceEvent.objects.get(event_type="api_key.revoked")
    assert (event.before["revoked"], event.after["revoked"], event.reason) == (
        False,
        True,
        "rotated",
    )
    response = client_with(secret).post("/api/v1/predictions/", prediction(), format="json")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_a_key_cannot_be_revoked_by_a_raw_save(service, ai_model):
    key, _ = issue_key(user=service, models=[ai_model], actions=LOG)
    key.revoked = True
    with pytest.raises(ValidationError, match="revoke_key"):
        key.save()


def test_a_key_needs_a_deliberate_scope(service, ai_model):
    with pytest.raises(ValidationError, match="needs a model"):
        issue_key(user=service, actions=LOG)
    with pytest.raises(ValidationError, match="not both"):
        issue_key(user=service, models=[ai_model], all_models=True, actions=LOG)
    with pytest.raises(ValidationError, match="at least one action"):
        issue_key(user=service, models=[ai_model], actions=[])
    assert not UserAPIKey.objects.exists()


def test_a_key_for_one_model_cannot_log_for_another_and_the_batch_stores_nothing(
    service, version, other_version
):
    _, secret = issue_key(user=service, models=[version.model], actions=LOG)
    batch = [prediction(), prediction(model="fraud-screening"), prediction()]
    response = client_with(secret).post("/api/v1/predictions/", batch, format="json")
    assert response.status_code == 403
    body = response.json()
    assert "models credit-scoring" in body["detail"] and "item 1" in body["detail"]
    assert [e["index"] for e in body["errors"]] == [1]
    assert "fraud-screening" in body["errors"][0]["errors"]["model"]
    assert not PredictionRecord.objects.exists()

    response = client_with(secret).post("/api/v1/predictions/", [prediction()], format="json")
    assert response.status_code == 201


def test_outcomes_are_in_scope_by_the_model_of_their_prediction(service, version, other_version):
    _, wide = issue_key(user=service, all_models=True, actions=LOG)
    theirs = prediction(model="fraud-screening")
    ours = prediction()
    client_with(wide).post("/api/v1/predictions/", [theirs, ours], format="json")
    _, narrow = issue_key(user=service, models=[version.model], actions=LOG)
    batch = [outcome(ours["event_id"]), outcome(theirs["event_id"])]
    response = client_with(narrow).post("/api/v1/outcomes/", batch, format="json")
    assert response.status_code == 403
    assert [e["index"] for e in response.json()["errors"]] == [1]
    assert not OutcomeRecord.objects.exists()


def test_a_key_lacking_the_action_is_refused_with_its_scope(service, version):
    _, secret = issue_key(user=service, models=[version.model], actions=[KeyAction.LOG_OUTCOMES])
    response = client_with(secret).post("/api/v1/predictions/", prediction(), format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "This API key may not log_predictions "
        "(its scope: models credit-scoring; actions log_outcomes)."
    )


def test_a_key_narrows_its_owner_role_and_never_widens_it(service, auditor, version):
    # The service account's role cannot read the inventory, whatever its key says.
    _, secret = issue_key(user=service, all_models=True, actions=KeyAction.values)
    assert client_with(secret).get("/api/v1/models/").status_code == 403
    # The auditor may read every model; a key for one model reads only that one.
    _, secret = issue_key(user=auditor, models=[version.model], actions=[KeyAction.READ_INVENTORY])
    assert client_with(secret).get("/api/v1/models/credit-scoring/").status_code == 200


def test_lists_show_only_the_models_in_scope(auditor, version, other_version):
    _, secret = issue_key(user=auditor, models=[version.model], actions=[KeyAction.READ_INVENTORY])
    response = client_with(secret).get("/api/v1/models/")
    assert [m["slug"] for m in response.json()["results"]] == ["credit-scoring"]
    response = client_with(secret).get("/api/v1/models/fraud-screening/")
    assert response.status_code == 403
    assert "does not cover model fraud-screening" in response.json()["detail"]
    url = f"/api/v1/versions/{other_version.pk}/"
    assert client_with(secret).get(url).status_code == 403


def test_the_admin_issues_a_key_through_the_ledger_and_shows_the_secret_once(
    admin_client, service, ai_model
):
    response = admin_client.post(
        "/admin/compliance/userapikey/add/",
        {
            "user": service.pk,
            "name": "scoring",
            "ai_models": [ai_model.pk],
            "actions": ["log_predictions"],
            "reason": "production scoring",
        },
        follow=True,
    )
    key = UserAPIKey.objects.get()
    message = next(str(m) for m in response.context["messages"])
    assert f"is {key.prefix}." in message
    assert key.model_slugs == {"credit-scoring"} and key.actions == ["log_predictions"]
    assert GovernanceEvent.objects.get(event_type="api_key.issued").reason == "production scoring"


def test_the_admin_refuses_a_key_without_a_scope(admin_client, service):
    response = admin_client.post(
        "/admin/compliance/userapikey/add/",
        {"user": service.pk, "name": "scoring", "actions": ["log_predictions"], "reason": "x"},
    )
    assert response.status_code == 200
    assert "needs a model" in response.content.decode()
    assert not UserAPIKey.objects.exists()


def test_a_risk_officer_revokes_keys_in_the_admin(client, risk_officer, service, ai_model):
    key, _ = issue_key(user=service, models=[ai_model], actions=LOG)
    client.force_login(risk_officer)
    response = client.post(
        "/admin/compliance/userapikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked
    event = GovernanceEvent.objects.get(event_type="api_key.revoked")
    assert event.actor == risk_officer


def test_oversight_is_in_scope_by_the_model_it_is_about(service, version, other_version):
    _, wide = issue_key(user=service, all_models=True, actions=LOG)
    theirs = prediction(model="fraud-screening")
    client_with(wide).post("/api/v1/predictions/", theirs, format="json")
    _, narrow = issue_key(
        user=service, models=[version.model], actions=[KeyAction.RECORD_OVERSIGHT]
    )
    body = {"action": "confirm", "event_id": theirs["event_id"], "reason": "checked", "person": "p"}
    response = client_with(narrow).post("/api/v1/oversight/", body, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "This API key's scope (models credit-scoring; actions record_oversight) does not cover "
        "the model this oversight is about; nothing was stored."
    )
    assert not GovernanceEvent.objects.filter(event_type__startswith="oversight.").exists()


def test_a_key_for_some_models_cannot_register_another(risk_officer, ai_model):
    _, secret = issue_key(
        user=risk_officer, models=[ai_model], actions=[KeyAction.MANAGE_INVENTORY]
    )
    body = {
        "name": "Fraud screening",
        "slug": "fraud-screening",
        "risk_tier": RiskTier.LOW,
        "eu_ai_act_category": EUAIActCategory.MINIMAL,
        "business_owner": risk_officer.username,
    }
    response = client_with(secret).post("/api/v1/models/", body, format="json")
    assert response.status_code == 403, response.json()
    assert "does not cover the new model" in response.json()["detail"]
    assert not AIModel.objects.filter(slug="fraud-screening").exists()


@pytest.mark.parametrize("scoped", [1, 2, "all"])
def test_authentication_reads_the_key_its_user_and_its_scope_in_one_query(
    service, ai_model, other_model, risk_officer, scoped
):
    models = {1: [ai_model], 2: [ai_model, other_model], "all": []}[scoped]
    key, secret = issue_key(
        user=service,
        models=models,
        all_models=scoped == "all",
        actions=LOG,
        actor=risk_officer,
        reason="production",
    )
    with CaptureQueriesContext(connection) as queries:
        read = key_with_user(key.prefix)
    assert len(queries) == 1
    orm = UserAPIKey.objects.select_related("user").get(prefix=key.prefix)
    assert read.model_slugs == frozenset(orm.ai_models.values_list("slug", flat=True))
    assert read.all_models is (scoped == "all") and read.actions == orm.actions
    assert (read.pk, read.revoked, read.expiry_date) == (orm.pk, orm.revoked, orm.expiry_date)
    assert read.user == service and read.user.is_active and read.is_valid(secret)
    expected = ModelBackend().get_all_permissions(UserAPIKey.objects.get(pk=key.pk).user)
    with CaptureQueriesContext(connection) as queries:  # read with the key
        assert read.user.get_all_permissions() == expected
        assert read.user.has_perm("audit.add_predictionrecord")
        assert not read.user.has_perm("audit.change_alert")
    assert len(queries) == 0
    assert key_with_user("nosuchprefix") is None
