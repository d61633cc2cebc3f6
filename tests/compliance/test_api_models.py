"""/api/v1/models/: the inventory through the API."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from compliance.models import AIModel

NEW_MODEL = {
    "slug": "churn",
    "name": "Customer churn",
    "risk_tier": 3,
    "eu_ai_act_category": "minimal",
    "sensitive_attributes": ["sex"],
}


def test_a_validator_lists_and_reads_the_inventory(api, validator, ai_model):
    client = api.as_(validator)
    listing = client.get("/api/v1/models/")
    assert listing.status_code == 200
    assert [m["slug"] for m in listing.json()["results"]] == ["credit-scoring"]
    detail = client.get("/api/v1/models/credit-scoring/").json()
    assert detail["risk_tier"] == 1
    assert detail["developing_team"] == ["devon"]
    assert "two validators" in detail["risk_tier_meaning"]


def test_any_limit_and_offset_is_answered_within_bounds(api, validator, ai_model):
    client = api.as_(validator)
    huge = 10**30
    assert len(client.get(f"/api/v1/models/?limit={huge}").json()["results"]) == 1
    page = client.get(f"/api/v1/models/?limit={huge}&offset={huge}")
    assert page.status_code == 200
    assert page.json()["results"] == []


def test_a_risk_officer_registers_and_edits_a_model(api, risk_officer, developer):
    client = api.as_(risk_officer)
    created = client.post("/api/v1/models/", {**NEW_MODEL, "developing_team": ["devon"]})
    assert created.status_code == 201, created.json()
    assert AIModel.objects.get(slug="churn").developing_team.get() == developer

    changed = client.patch("/api/v1/models/churn/", {"risk_tier": 2})
    assert changed.status_code == 200
    assert AIModel.objects.get(slug="churn").risk_tier == 2


def test_the_session_of_a_logged_in_user_works_too(risk_officer, ai_model):
    client = APIClient()
    client.force_login(risk_officer)
    assert client.get("/api/v1/models/").status_code == 200


def test_without_credentials_the_answer_is_401(db):
    response = APIClient().get("/api/v1/models/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"


def test_an_invalid_key_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key abc.def")
    assert client.get("/api/v1/models/").status_code == 401


@pytest.mark.parametrize("persona", ["validator", "auditor", "developer", "service", "outsider"])
def test_only_a_risk_officer_registers_models(api, persona, request):
    client = api.as_(request.getfixturevalue(persona))
    assert client.post("/api/v1/models/", NEW_MODEL).status_code == 403
    assert not AIModel.objects.filter(slug="churn").exists()


@pytest.mark.parametrize("persona", ["service", "outsider"])
def test_a_service_account_cannot_read_the_inventory(api, persona, request, ai_model):
    client = api.as_(request.getfixturevalue(persona))
    assert client.get("/api/v1/models/").status_code == 403
    assert client.get("/api/v1/models/credit-scoring/").status_code == 403


def test_an_auditor_cannot_change_a_model(api, auditor, ai_model):
    response = api.as_(auditor).patch("/api/v1/models/credit-scoring/", {"risk_tier": 3})
    assert response.status_code == 403
    ai_model.refresh_from_db()
    assert ai_model.risk_tier == 1


def test_bad_input_names_every_wrong_field(api, risk_officer, ai_model):
    response = api.as_(risk_officer).post(
        "/api/v1/models/",
        {
            "slug": "credit-scoring",
            "risk_tier": 7,
            "eu_ai_act_category": "high_risk",
            "sensitive_attributes": ["age band"],
        },
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) >= {"slug", "name", "risk_tier", "sensitive_attributes"}
    assert "already exists" in errors["slug"][0]
    assert "age band" in errors["sensitive_attributes"][0]


def test_a_high_risk_model_without_annex_iii_area_is_a_400(api, risk_officer):
    response = api.as_(risk_officer).post(
        "/api/v1/models/", {**NEW_MODEL, "eu_ai_act_category": "high_risk"}
    )
    assert response.status_code == 400
    assert "Annex III" in response.json()["annex_iii_area"][0]


def test_an_unknown_model_is_404(api, validator):
    assert api.as_(validator).get("/api/v1/models/nope/").status_code == 404


def test_the_openapi_schema_describes_the_api(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/models/{model_slug}/versions/" in response.content
    assert client.get("/api/schema/ui/").status_code == 200


def test_every_api_operation_documents_the_refusals_and_limits(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operations = [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in methods.items()
    ]
    assert len(operations) > 40
    for path, method, operation in operations:
        missing = {"401", "403", "413", "429"} - set(operation["responses"])
        assert not missing, f"{method} {path} does not document {missing}"
        assert "Retry-After" in operation["responses"]["429"]["headers"]
    # A view's own, more specific refusal is kept.
    approve = schema["paths"]["/api/v1/versions/{id}/approve/"]["post"]["responses"]["403"]
    assert approve["content"]["application/json"]["schema"]["$ref"].endswith("/WorkflowError")
