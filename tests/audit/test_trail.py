"""GET /api/v1/predictions/{event_id}/trail/: the whole story of one decision in one call."""

from __future__ import annotations

import base64
import json

import pytest

from audit import merkle
from audit.sequencer import seal_all
from tests.audit.conftest import committed, outcome, prediction

pytestmark = committed


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def decided(logging_client):
    item = prediction()
    post(logging_client, "/api/v1/predictions/", [prediction(), item, prediction()])
    first = outcome(item["event_id"], outcome={"label": 0})
    fixed = outcome(item["event_id"], outcome={"label": 1}, corrects=first["outcome_id"])
    post(logging_client, "/api/v1/outcomes/", [first, fixed])
    return item


def trail(api, user, event_id):
    return api.as_(user).get(f"/api/v1/predictions/{event_id}/trail/")


def test_the_trail_has_record_bundle_outcome_and_approval_state(api, auditor, decided, version):
    body = trail(api, auditor, decided["event_id"]).json()
    assert body["record"]["inputs"] == decided["inputs"]
    assert body["record"]["explanation"] == decided["explanation"]
    assert body["version"]["manifest_sha256"] == version.manifest_sha256
    assert body["version"]["artifact_sha256"] == version.artifact_sha256
    assert body["approval_at_decision"]["serving_approved"] is False
    assert body["outcome"]["outcome"] == {"label": 1}  # the correction, not the corrected
    assert len(body["outcomes"]) == 2
    assert body["receipt"] == {"status": "pending"}


def test_once_sealed_the_trail_carries_a_receipt_that_verifies(api, auditor, decided):
    seal_all()
    receipt = trail(api, auditor, decided["event_id"]).json()["receipt"]
    statement = receipt["checkpoint"]["statement"]
    leaf = merkle.leaf_hash(base64.b64decode(receipt["canonical"]))
    proof = [bytes.fromhex(h) for h in receipt["inclusion_proof"]]
    root = bytes.fromhex(statement["root_hash"])
    assert merkle.verify_inclusion(leaf, receipt["leaf_index"], statement["tree_size"], proof, root)


@pytest.mark.parametrize("persona", ["risk_officer", "validator", "auditor"])
def test_oversight_roles_see_the_sensitive_attributes(api, persona, request, decided):
    body = trail(api, request.getfixturevalue(persona), decided["event_id"]).json()
    assert body["sensitive"] == decided["sensitive"]


@pytest.mark.parametrize("persona", ["developer", "service"])
def test_others_do_not_see_the_sensitive_attributes(api, persona, request, decided):
    body = trail(api, request.getfixturevalue(persona), decided["event_id"]).json()
    assert "sensitive" not in body
    assert "F" not in json.dumps(body["record"].get("sensitive_sha256"))


def test_the_trail_needs_credentials_and_a_role_that_reads_predictions(
    api, client, outsider, decided
):
    url = f"/api/v1/predictions/{decided['event_id']}/trail/"
    assert client.get(url).status_code == 401
    assert api.as_(outsider).get(url).status_code == 403


def test_an_unknown_prediction_has_no_trail(api, auditor, db):
    assert trail(api, auditor, "00000000-0000-4000-8000-000000000000").status_code == 404
    assert api.as_(auditor).get("/api/v1/predictions/not-a-uuid/trail/").status_code == 404
