"""Issue #16, hole 10: hostile input was a 500.

Integers beyond ±2**53, a lone surrogate in a key or a value, nesting about 950 levels deep and,
on PostgreSQL, a NUL character in any string that reaches a query were all server errors. Every
endpoint now answers them with a 400 that names the item (a batch's index) and the field, and
stores nothing. Run on SQLite and on PostgreSQL (where NUL was the DataError).
"""

from __future__ import annotations

import json
import uuid

import pytest

from audit.models import GovernanceEvent, LedgerEntry, OutcomeRecord, PredictionRecord
from tests.audit.conftest import outcome, prediction
from tests.conftest import bundle

SLOT = "@@hostile@@"

# What the attacker sends, as JSON text: a value that no stored form keeps faithfully.
VALUES = {
    "integer_beyond_2_to_the_53": str(2**64),
    "negative_integer_beyond_2_to_the_53": str(-(2**53) - 1),
    "lone_surrogate_in_a_value": '"\\ud800 tail"',
    "nul_in_a_value": '"\\u00f2\\u0000abc"',
    "nesting_950_levels_deep": "[" * 950 + "]" * 950,
    "nesting_5000_levels_deep": "[" * 5000 + "]" * 5000,
}
KEYS = {
    "lone_surrogate_in_a_key": '"\\udc00key"',
    "nul_in_a_key": '"ke\\u0000y"',
}
STRINGS = {name: text for name, text in VALUES.items() if text.startswith('"')}


def body_with(document, hostile: str) -> str:
    """``document`` as JSON text, its ``SLOT`` string (or key) replaced by ``hostile``."""
    text = json.dumps(document)
    assert f'"{SLOT}"' in text
    return text.replace(f'"{SLOT}"', hostile)


def post(client, url: str, body: str):
    return client.post(url, body, content_type="application/json")


def refused_item(response, index: int) -> dict[str, str]:
    """The field errors of item ``index`` of a refused batch."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert isinstance(body["detail"], str)
    [entry] = [e for e in body["errors"] if e["index"] == index]
    return entry["errors"]


def refused_fields(response) -> dict[str, list[str]]:
    """The field errors of a refused object body (by field, as the serializers give them)."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert isinstance(body.pop("detail"), str)
    return body


def named(fields: dict[str, str], field: str) -> bool:
    return any(name == field or name.startswith((f"{field}.", f"{field}[")) for name in fields)


# ---------------------------------------------------------------- ingest: predictions, outcomes
@pytest.mark.parametrize("attack", sorted(VALUES))
def test_a_hostile_value_in_a_prediction_batch_is_a_400_naming_the_item_and_field(
    api, service, version, attack
):
    client = api.as_(service)  # issuing the key is a ledger event
    entries = LedgerEntry.objects.count()
    batch = [prediction(), prediction(inputs={"income": SLOT, "age": 41})]
    response = post(client, "/api/v1/predictions/", body_with(batch, VALUES[attack]))
    assert named(refused_item(response, 1), "inputs.income")
    assert not PredictionRecord.objects.exists() and LedgerEntry.objects.count() == entries


@pytest.mark.parametrize("attack", sorted(KEYS))
def test_a_hostile_key_in_a_prediction_batch_is_a_400_naming_the_item_and_field(
    api, service, version, attack
):
    batch = [prediction(), prediction(), prediction(context={SLOT: "x"})]
    response = post(api.as_(service), "/api/v1/predictions/", body_with(batch, KEYS[attack]))
    assert named(refused_item(response, 2), "context")
    assert not PredictionRecord.objects.exists()


def test_a_nul_in_the_model_slug_of_a_prediction_is_a_400_naming_it(api, service, version):
    batch = [prediction(model=SLOT)]
    response = post(api.as_(service), "/api/v1/predictions/", body_with(batch, '"\\u0000x"'))
    assert "model" in refused_item(response, 0)


@pytest.mark.parametrize("value", [[], {}, ["1.0.0"], {"label": "1.0.0"}, 7, True])
@pytest.mark.parametrize("field", ["model", "version"])
def test_a_model_or_version_that_is_not_a_string_is_a_400_naming_it(
    api, service, version, field, value
):
    """Found by the ingest property test (``{"version": []}`` was a 500: a list is no key)."""
    response = post(
        api.as_(service), "/api/v1/predictions/", json.dumps([prediction(**{field: value})])
    )
    assert field in refused_item(response, 0)


def test_every_hostile_item_of_a_batch_is_named(api, service, version):
    batch = [prediction(inputs={"income": SLOT}), prediction(), prediction(output=SLOT)]
    text = json.dumps(batch).replace(f'"{SLOT}"', str(2**64), 1).replace(f'"{SLOT}"', '"\\ud800"')
    response = post(api.as_(service), "/api/v1/predictions/", text)
    assert named(refused_item(response, 0), "inputs.income")
    assert named(refused_item(response, 2), "output")
    assert [e["index"] for e in response.json()["errors"]] == [0, 2]


@pytest.mark.parametrize("attack", sorted(VALUES))
def test_a_hostile_value_in_an_outcome_batch_is_a_400_naming_the_item_and_field(
    api, service, version, attack
):
    event_id = str(uuid.uuid4())
    batch = [outcome(event_id), outcome(event_id, outcome={"label": SLOT})]
    response = post(api.as_(service), "/api/v1/outcomes/", body_with(batch, VALUES[attack]))
    assert named(refused_item(response, 1), "outcome.label")
    assert not OutcomeRecord.objects.exists()


@pytest.mark.parametrize("attack", sorted(KEYS))
def test_a_hostile_key_in_an_outcome_is_a_400_naming_the_item_and_field(
    api, service, version, attack
):
    batch = [outcome(str(uuid.uuid4()), outcome={"label": 1, SLOT: 2})]
    response = post(api.as_(service), "/api/v1/outcomes/", body_with(batch, KEYS[attack]))
    assert named(refused_item(response, 0), "outcome")


# ---------------------------------------------------------------- other endpoints that take JSON
def oversight(**fields) -> dict:
    return {"action": "override", "event_id": str(uuid.uuid4()), "reason": "r", **fields}


@pytest.mark.parametrize("attack", sorted(STRINGS))
def test_a_hostile_model_slug_in_oversight_is_a_400_naming_the_field(
    api, risk_officer, ai_model, attack
):
    """schemathesis found this one on PostgreSQL: ``"model": "ò\\u0000…"``, a DataError."""
    body = body_with(oversight(model=SLOT, decision=1), STRINGS[attack])
    response = post(api.as_(risk_officer), "/api/v1/oversight/", body)
    assert "model" in refused_fields(response)
    assert not GovernanceEvent.objects.filter(event_type__startswith="oversight").exists()


@pytest.mark.parametrize("attack", sorted(VALUES))
def test_a_hostile_decision_in_oversight_is_a_400_naming_the_field(
    api, risk_officer, ai_model, attack
):
    body = body_with(oversight(decision={"label": SLOT}), VALUES[attack])
    response = post(api.as_(risk_officer), "/api/v1/oversight/", body)
    assert named(refused_fields(response), "decision.label")


@pytest.mark.parametrize("attack", sorted(STRINGS))
def test_a_hostile_name_of_a_new_model_is_a_400_naming_the_field(api, risk_officer, attack):
    new = {
        "slug": "churn",
        "name": SLOT,
        "risk_tier": 3,
        "eu_ai_act_category": "minimal",
        "sensitive_attributes": ["sex"],
    }
    response = post(api.as_(risk_officer), "/api/v1/models/", body_with(new, STRINGS[attack]))
    assert "name" in refused_fields(response)


@pytest.mark.parametrize("attack", sorted(VALUES))
def test_a_hostile_configuration_of_a_new_version_is_a_400_naming_the_field(
    api, developer, ai_model, attack
):
    new = bundle(label="3.0.0", configuration={"C": SLOT})
    url = "/api/v1/models/credit-scoring/versions/"
    response = post(api.as_(developer), url, body_with(new, VALUES[attack]))
    assert named(refused_fields(response), "configuration.C")
    assert not ai_model.versions.filter(label="3.0.0").exists()


# ---------------------------------------------------------------- the URL: path and query string
def test_a_nul_in_a_url_path_is_a_400_naming_the_path(api, validator, version):
    response = api.as_(validator).get("/api/v1/models/credit-scoring/versions/1.0%000/")
    assert response.status_code == 400
    assert "path" in response.json()["detail"]


def test_a_nul_in_a_query_string_is_a_400_naming_the_parameter(api, validator, version):
    response = api.as_(validator).get("/api/v1/models/", {"slug": "a\x00b"})
    assert response.status_code == 400
    assert "slug" in response.json()["detail"]


def test_a_nul_in_an_admin_search_is_a_400_naming_the_parameter(client, risk_officer, ai_model):
    client.force_login(risk_officer)
    response = client.get("/admin/compliance/aimodel/", {"q": "credit\x00"})
    assert response.status_code == 400
    assert "q" in response.json()["detail"]


def test_a_nul_in_an_admin_form_is_a_400_naming_the_field(client, risk_officer, ai_model):
    client.force_login(risk_officer)
    url = f"/admin/compliance/aimodel/{ai_model.pk}/change/"
    response = client.post(url, {"name": "x\x00", "slug": "credit-scoring"})
    assert response.status_code == 400
    assert "name" in response.json()["detail"]
