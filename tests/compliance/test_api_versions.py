"""/api/v1/models/{slug}/versions/: developers register bundles; frozen ones stay frozen."""

from __future__ import annotations

import json

import pytest

from compliance.choices import Role, VersionState
from compliance.models import ModelVersion
from tests.conftest import bundle, make_user

URL = "/api/v1/models/credit-scoring/versions/"


def test_a_developer_of_the_team_registers_a_version(api, developer, ai_model):
    response = api.as_(developer).post(URL, bundle())
    assert response.status_code == 201, response.json()
    body = response.json()
    version = ModelVersion.objects.get(model=ai_model, label="1.0.0")
    assert body["state"] == "draft"
    assert body["created_by"] == "devon"
    assert body["manifest_sha256"] == version.manifest_sha256
    assert len(body["input_schema_sha256"]) == 64


def test_the_manifest_hash_ignores_key_order_and_whitespace_of_the_request(
    api, developer, ai_model
):
    client = api.as_(developer)
    first = bundle(label="1.0.0")
    second = dict(reversed(list(bundle(label="1.0.0").items())))
    second["input_schema"] = dict(reversed(list(second["input_schema"].items())))
    a = client.post(URL, json.dumps(first), content_type="application/json").json()
    ModelVersion.objects.all().delete()
    b = client.post(
        URL,
        json.dumps(second, indent=4, separators=(" ,", " :  ")),
        content_type="application/json",
    ).json()
    assert a["manifest_sha256"] == b["manifest_sha256"]
    assert a["input_schema_sha256"] == b["input_schema_sha256"]


def test_anyone_with_read_access_lists_and_reads_versions(api, auditor, version):
    client = api.as_(auditor)
    assert [v["label"] for v in client.get(URL).json()["results"]] == ["1.0.0"]
    assert client.get(URL + "1.0.0/").json()["manifest_sha256"] == version.manifest_sha256


def test_a_draft_can_be_updated(api, developer, version):
    response = api.as_(developer).patch(URL + "1.0.0/", {"code_commit": "9999999"})
    assert response.status_code == 200
    version.refresh_from_db()
    assert version.code_commit == "9999999"


def test_a_version_that_left_draft_is_frozen_409(api, developer, version):
    ModelVersion.objects.filter(pk=version.pk).update(state=VersionState.SUBMITTED)
    response = api.as_(developer).patch(URL + "1.0.0/", {"code_commit": "9999999"})
    assert response.status_code == 409
    assert "frozen" in response.json()["detail"]
    version.refresh_from_db()
    assert version.code_commit == "3f2c1e9"


def test_the_state_cannot_be_set_through_the_api(api, developer, version):
    api.as_(developer).patch(URL + "1.0.0/", {"state": "approved"})
    version.refresh_from_db()
    assert version.state == "draft"


def test_a_developer_outside_the_team_cannot_register(api, ai_model):
    stranger = make_user("dana", Role.DEVELOPER)
    response = api.as_(stranger).post(URL, bundle())
    assert response.status_code == 403
    assert "developing team" in response.json()["detail"]


@pytest.mark.parametrize("persona", ["risk_officer", "validator", "auditor", "service", "outsider"])
def test_only_developers_register_versions(api, persona, request, ai_model):
    response = api.as_(request.getfixturevalue(persona)).post(URL, bundle())
    assert response.status_code == 403
    assert not ModelVersion.objects.exists()


def test_unauthenticated_is_401(client, ai_model):
    assert client.get(URL).status_code == 401
    assert client.post(URL, bundle(), content_type="application/json").status_code == 401


def test_bad_input_names_every_wrong_field_and_why(api, developer, version):
    response = api.as_(developer).post(
        URL,
        bundle(
            label="1.0.0",
            artifact_sha256="not-a-hash",
            input_schema={"type": "objekt"},
            training_date_to="2023-01-01",
            training_row_count=-5,
        ),
    )
    assert response.status_code == 400
    errors = response.json()
    assert "already has a version 1.0.0" in errors["label"][0]
    assert "SHA-256" in errors["artifact_sha256"][0]
    assert "Not a valid JSON Schema" in errors["input_schema"][0]
    assert "training_row_count" in errors


def test_a_date_range_that_ends_before_it_starts_is_a_400(api, developer, ai_model):
    response = api.as_(developer).post(URL, bundle(training_date_to="2023-01-01"))
    assert response.status_code == 400
    assert "ends before it starts" in response.json()["training_date_to"][0]


def test_an_unknown_model_or_version_is_404(api, developer, version):
    client = api.as_(developer)
    assert client.get("/api/v1/models/nope/versions/").status_code == 404
    assert client.post("/api/v1/models/nope/versions/", bundle()).status_code == 404
    assert client.get(URL + "9.9.9/").status_code == 404
