"""POST /api/v1/predictions/ and /api/v1/outcomes/: stored once, refused whole, flagged."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

import pytest

from audit.models import (
    Alert,
    GovernanceEvent,
    LedgerEntry,
    OutcomeRecord,
    PredictionRecord,
    SensitiveAttributes,
)
from tests.audit.conftest import outcome, prediction

URL = "/api/v1/predictions/"


def post(client, body, url=URL):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_a_prediction_is_stored_with_its_receipt(logging_client):
    item = prediction()
    response = post(logging_client, item)
    assert response.status_code == 201
    receipt = response.json()
    record = PredictionRecord.objects.select_related("entry").get(event_id=item["event_id"])
    assert receipt["entry_id"] == record.entry_id
    assert receipt["leaf_hash"] == record.entry.leaf_hash_hex
    assert receipt["duplicate"] is False
    payload = json.loads(bytes(record.entry.canonical))
    assert payload["inputs"] == item["inputs"] and payload["output"] == item["output"]
    assert payload["version_manifest_sha256"] == record.version.manifest_sha256
    assert record.favourable is True and record.score == 0.81


def test_sensitive_attributes_are_kept_apart_and_only_their_digest_is_committed(logging_client):
    item = prediction()
    post(logging_client, item)
    record = PredictionRecord.objects.get(event_id=item["event_id"])
    payload = json.loads(bytes(record.entry.canonical))
    assert "F" not in json.dumps(payload["sensitive_sha256"])
    assert "sensitive" not in payload
    assert SensitiveAttributes.objects.get(prediction=record).values == item["sensitive"]


def test_a_batch_gets_one_receipt_per_item_in_order(logging_client):
    items = [prediction() for _ in range(1000)]
    response = post(logging_client, items)
    assert response.status_code == 201
    receipts = response.json()["receipts"]
    assert [r["event_id"] for r in receipts] == [i["event_id"] for i in items]
    assert PredictionRecord.objects.count() == 1000


@pytest.mark.parametrize("size", [3, 40])  # one INSERT for a few rows; COPY on PostgreSQL
def test_every_column_of_a_batch_is_stored_as_sent(logging_client, size):
    items = [
        prediction(
            decided_at=f"2026-11-20T10:{i:02d}:00+01:00",
            output={"score": i / 100, "decision": i % 2},
            sensitive={"sex": "F" if i % 3 else "M", "note": 'quote " and \\ backslash'},
        )
        for i in range(size)
    ]
    items[1].pop("sensitive")
    receipts = post(logging_client, items).json()["receipts"]
    records = PredictionRecord.objects.select_related("entry", "sensitive").in_bulk(
        [i["event_id"] for i in items], field_name="event_id"
    )
    for i, (item, receipt) in enumerate(zip(items, receipts, strict=True)):
        record = records[uuid.UUID(item["event_id"])]
        entry = record.entry
        assert (receipt["entry_id"], receipt["leaf_hash"]) == (entry.pk, entry.leaf_hash_hex)
        assert bytes(entry.leaf_hash) == hashlib.sha256(b"\0" + bytes(entry.canonical)).digest()
        payload = json.loads(bytes(entry.canonical))
        assert payload["event_id"] == item["event_id"] and entry.kind == "prediction"
        assert record.decided_at == dt.datetime(2026, 11, 20, 9, i, tzinfo=dt.UTC)
        assert (record.score, record.favourable) == (i / 100, i % 2 == 1)
        assert record.environment == "production" and record.received_at == entry.received_at
        if i == 1:
            assert not SensitiveAttributes.objects.filter(prediction=record).exists()
        else:
            assert record.sensitive.values == item["sensitive"]


def test_a_batch_of_new_and_already_stored_predictions_stores_only_the_new(logging_client):
    stored = [prediction() for _ in range(20)]
    first = post(logging_client, stored).json()["receipts"]
    fresh = [prediction() for _ in range(20)]
    again = post(logging_client, stored[:10] + fresh).json()["receipts"]
    assert again[:10] == [{**r, "duplicate": True} for r in first[:10]]
    assert not any(r["duplicate"] for r in again[10:])
    assert PredictionRecord.objects.count() == 40


def test_a_retry_returns_the_original_receipt_and_stores_nothing_twice(logging_client):
    items = [prediction() for _ in range(3)]
    first = post(logging_client, items).json()["receipts"]
    entries = LedgerEntry.objects.count()
    again = post(logging_client, items).json()["receipts"]
    assert [r["entry_id"] for r in again] == [r["entry_id"] for r in first]
    assert all(r["duplicate"] for r in again)
    assert LedgerEntry.objects.count() == entries


def test_the_same_event_id_twice_in_one_batch_is_stored_once(logging_client):
    item = prediction()
    receipts = post(logging_client, [item, item]).json()["receipts"]
    assert receipts[0]["entry_id"] == receipts[1]["entry_id"]
    assert [r["duplicate"] for r in receipts] == [False, True]
    assert PredictionRecord.objects.count() == 1


def test_the_same_event_id_with_other_content_is_a_409(logging_client):
    item = prediction()
    post(logging_client, item)
    changed = {**item, "output": {"score": 0.1, "decision": 0}}
    fresh = prediction()
    response = post(logging_client, [fresh, changed])
    assert response.status_code == 409
    assert response.json()["errors"][0]["index"] == 1
    assert not PredictionRecord.objects.filter(event_id=fresh["event_id"]).exists()


def test_a_batch_with_bad_items_stores_nothing_and_names_each_bad_item(logging_client):
    items = [
        prediction(),
        prediction(event_id="not-a-uuid"),
        prediction(version="9.9.9"),
        {k: v for k, v in prediction().items() if k != "version"},
        prediction(decided_at="yesterday"),
        prediction(output={"score": 0.3}),
        "not an object",
    ]
    response = post(logging_client, items)
    assert response.status_code == 400
    errors = {e["index"]: e["errors"] for e in response.json()["errors"]}
    assert set(errors) == {1, 2, 3, 4, 5, 6}
    assert "UUID" in errors[1]["event_id"]
    assert "Unknown model version credit-scoring 9.9.9" in errors[2]["version"]
    assert "version" in errors[3]
    assert "time zone" in errors[4]["decided_at"]
    assert "decision" in errors[5]["output"]
    assert not LedgerEntry.objects.exclude(kind="event").exists()


@pytest.mark.parametrize("body", [b"{not json", b'{"score": NaN}', b"[1, Infinity]"])
def test_a_body_that_is_not_json_is_a_400(logging_client, body):
    response = logging_client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert not LedgerEntry.objects.exclude(kind="event").exists()


def test_nan_from_a_python_caller_is_refused_too(logging_client):
    from audit.ingest import BatchRefused, ingest_predictions

    with pytest.raises(BatchRefused) as refused:
        ingest_predictions([prediction(output={"score": float("nan"), "decision": 1})])
    assert "NaN" in refused.value.errors[0]["errors"]["output.score"]


def test_inputs_that_break_the_schema_are_recorded_flagged_and_alerted(
    logging_client, django_capture_on_commit_callbacks
):
    bad = [prediction(inputs={"income": "lots", "age": 12}) for _ in range(3)]
    response = post(logging_client, bad)
    assert response.status_code == 201
    assert PredictionRecord.objects.filter(schema_violation=True).count() == 3
    payload = json.loads(bytes(PredictionRecord.objects.first().entry.canonical))
    # The field and the rule it breaks, never the value (it may be personal: hole 9).
    assert payload["schema_violations"] == [
        "inputs.age: breaks minimum 18",
        'inputs.income: breaks type "number"',
    ]
    alert = Alert.objects.get(kind=Alert.Kind.SCHEMA_VIOLATION)
    assert alert.occurrences == 3 and "training-serving skew" in alert.message
    with django_capture_on_commit_callbacks(execute=True):  # repeats are counted on commit
        post(logging_client, [prediction(inputs={"income": "more"})])
    alert.refresh_from_db()
    assert alert.occurrences == 4
    assert GovernanceEvent.objects.filter(event_type="alert.schema_violation").count() == 1


def test_a_version_that_is_not_deployed_is_recorded_and_alerted(logging_client):
    post(logging_client, prediction())
    assert PredictionRecord.objects.get().unapproved_version is True
    assert Alert.objects.filter(kind=Alert.Kind.UNAPPROVED_VERSION).exists()


def test_an_oversized_request_is_413_before_it_is_parsed(logging_client, settings):
    settings.LEDGER_MAX_REQUEST_BYTES = 1000
    response = logging_client.post(URL, b"x" * 2000, content_type="application/json")
    assert response.status_code == 413
    assert "limit is 1000" in response.json()["detail"]


def test_a_batch_over_the_limit_is_413(logging_client, settings):
    settings.LEDGER_MAX_BATCH = 2
    response = post(logging_client, [prediction() for _ in range(3)])
    assert response.status_code == 413


def test_logging_needs_credentials_and_the_right_role(api, client, validator, version):
    assert post(client, prediction()).status_code == 401
    assert post(api.as_(validator), prediction()).status_code == 403
    assert not LedgerEntry.objects.exclude(kind="event").exists()


def test_an_empty_batch_is_a_400(logging_client):
    assert post(logging_client, []).status_code == 400


def test_outcomes_link_to_their_prediction_and_corrections_to_the_outcome(logging_client):
    item = prediction()
    post(logging_client, item)
    first = outcome(item["event_id"], outcome={"label": 0})
    correction = outcome(item["event_id"], outcome={"label": 1}, corrects=first["outcome_id"])
    response = post(logging_client, [first, correction], url="/api/v1/outcomes/")
    assert response.status_code == 201, response.json()
    stored = OutcomeRecord.objects.get(outcome_id=correction["outcome_id"])
    assert stored.corrects.outcome_id.hex == first["outcome_id"].replace("-", "")
    assert stored.prediction.event_id.hex == item["event_id"].replace("-", "")
    retry = post(logging_client, [first], url="/api/v1/outcomes/").json()["receipts"][0]
    assert retry["duplicate"] is True
    assert OutcomeRecord.objects.count() == 2


def test_an_outcome_of_an_unknown_prediction_is_a_400(logging_client):
    response = post(logging_client, [outcome(prediction()["event_id"])], url="/api/v1/outcomes/")
    assert response.status_code == 400
    assert "No prediction" in response.json()["errors"][0]["errors"]["event_id"]


def test_outcomes_that_correct_each_other_in_a_cycle_are_refused(logging_client):
    item = prediction()
    post(logging_client, item)
    a, b = outcome(item["event_id"]), outcome(item["event_id"])
    a["corrects"], b["corrects"] = b["outcome_id"], a["outcome_id"]
    response = post(logging_client, [a, b], url="/api/v1/outcomes/")
    assert response.status_code == 400
    assert "cycle" in response.json()["detail"]
    assert not OutcomeRecord.objects.exists()
