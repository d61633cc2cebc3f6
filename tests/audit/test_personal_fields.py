"""Personal fields (``"x-personal": true`` in the input schema) are encrypted per data subject:
the ledger commits to their ciphertext, never to the values, and retries leak nothing."""

from __future__ import annotations

import hashlib
import json

import pytest

from audit.canonical import canonical_json
from audit.models import PredictionRecord, SubjectKey
from audit.personal import ERASED, WITHHELD, content_digest, destroy, subject_digest
from tests.audit.conftest import EMAIL, NAME, committed, personal_prediction, prediction

pytestmark = committed


def post(client, body):
    return client.post("/api/v1/predictions/", json.dumps(body), content_type="application/json")


@pytest.fixture
def logged(api, service, personal_version) -> dict:
    item = personal_prediction()
    assert post(api.as_(service), [item]).status_code == 201
    return item


def test_the_ledger_commits_to_ciphertext_not_to_personal_values(logged):
    record = PredictionRecord.objects.select_related("entry").get(event_id=logged["event_id"])
    canonical = bytes(record.entry.canonical)
    for secret in (EMAIL, NAME, "customer-4711"):
        assert secret.encode() not in canonical
    payload = json.loads(canonical)
    assert payload["inputs"] == {"income": 52.5}
    assert set(payload["personal"]["fields"]) == {"email", "name"}
    assert payload["personal"]["subject"] == str(record.subject.reference)


def test_the_retry_digest_is_keyed_and_does_not_reveal_personal_values(logged, settings):
    record = PredictionRecord.objects.select_related("entry").get(event_id=logged["event_id"])
    plain = hashlib.sha256(canonical_json(logged)).hexdigest()
    assert record.content_sha256 != plain
    assert json.loads(bytes(record.entry.canonical))["content_hmac"] == record.content_sha256
    assert plain not in bytes(record.entry.canonical).decode()
    # Guessing a value needs the server's key: another key gives another digest.
    settings.LEDGER_DIGEST_KEY = "another-digest-key-" * 3
    assert content_digest(logged) != record.content_sha256


def test_a_retry_is_recognised_and_other_personal_content_is_a_conflict(api, service, logged):
    client = api.as_(service)
    again = post(client, [logged])
    assert again.status_code == 201 and again.json()["receipts"][0]["duplicate"] is True
    changed = {**logged, "inputs": {**logged["inputs"], "email": "other@example.org"}}
    assert post(client, [changed]).status_code == 409


def test_personal_fields_without_a_subject_are_refused_naming_the_field(
    api, service, personal_version
):
    item = personal_prediction()
    del item["subject_id"]
    response = post(api.as_(service), [item])
    assert response.status_code == 400
    problem = response.json()["errors"][0]["errors"]["subject_id"]
    assert "subject_id" in json.dumps(response.json()) and "email, name" in problem
    assert not PredictionRecord.objects.exists()


def test_a_subject_has_one_key_and_its_id_is_kept_only_as_a_keyed_digest(
    api, service, personal_version
):
    post(api.as_(service), [personal_prediction(), personal_prediction()])
    key = SubjectKey.objects.get()
    assert key.subject_digest == subject_digest("customer-4711")
    assert key.subject_digest != hashlib.sha256(b"customer-4711").hexdigest()
    assert PredictionRecord.objects.filter(subject=key).count() == 2


def trail(api, user, event_id) -> dict:
    return api.as_(user).get(f"/api/v1/predictions/{event_id}/trail/").json()


@pytest.mark.parametrize("persona", ["risk_officer", "validator", "auditor"])
def test_oversight_roles_read_the_decrypted_personal_fields(api, persona, request, logged):
    body = trail(api, request.getfixturevalue(persona), logged["event_id"])
    assert body["personal"]["status"] == "available"
    assert body["personal"]["fields"] == {"email": EMAIL, "name": NAME}


def test_a_developer_sees_the_personal_fields_withheld(api, developer, logged):
    body = trail(api, developer, logged["event_id"])
    assert body["personal"]["fields"] == {"email": WITHHELD, "name": WITHHELD}
    assert EMAIL not in json.dumps(body)


def test_once_the_key_is_destroyed_the_trail_shows_the_fields_erased(api, auditor, logged):
    destroy(SubjectKey.objects.get())
    body = trail(api, auditor, logged["event_id"])
    assert body["personal"]["status"] == "erased"
    assert body["personal"]["fields"] == {"email": ERASED, "name": ERASED}
    assert body["record"]["inputs"] == {"income": 52.5}


def test_a_prediction_without_personal_fields_is_logged_as_before(api, service, version):
    item = prediction()
    assert post(api.as_(service), [item]).status_code == 201
    payload = json.loads(bytes(PredictionRecord.objects.get().entry.canonical))
    assert payload["inputs"] == item["inputs"] and payload["personal"] is None
