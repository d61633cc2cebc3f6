"""Explanations computed in the background: their own ledger entries, linked to the prediction's
entry, for every sealed prediction logged without one, never by ingest."""

from __future__ import annotations

import dataclasses
import json
from io import StringIO

import pytest
from django.core.management import call_command

from audit import merkle
from audit.export import export_ledger
from audit.models import (
    Alert,
    EntryKind,
    ExplainerProgress,
    ExplanationRecord,
    Leaf,
    LedgerEntry,
    PredictionRecord,
)
from audit.sequencer import seal_all
from audit.verify import verify_directory
from compliance import explanations, tasks
from compliance.artifacts import store_artifact
from compliance.explanations import explain_all, explain_pending
from tests.audit.conftest import committed
from tests.compliance.explain_support import applications, by_hand, register, sigmoid

pytestmark = committed


@pytest.fixture
def service_client(api, service):
    return api.as_(service)


def log(client, items) -> None:
    response = client.post("/api/v1/predictions/", items, format="json")
    assert response.status_code == 201, response.content


def payload(entry: LedgerEntry) -> dict:
    return json.loads(bytes(entry.canonical))


def test_ingest_leaves_explaining_to_the_background(uploaded, service_client, trained):
    log(service_client, applications(trained, 5))
    assert not LedgerEntry.objects.filter(kind=EntryKind.EXPLANATION).exists()
    assert explain_pending().entries == 0  # nothing is sealed yet
    seal_all()
    assert explain_pending().explained == 5


def test_each_sealed_prediction_gets_a_shap_entry_linked_to_its_own(
    uploaded,
    service_client,
    trained,
    background_rows,
):
    items = applications(trained, 20)
    log(service_client, items)
    seal_all()
    done = explain_all()
    assert (done.explained, done.unexplainable, done.mismatches) == (20, 0, 0)
    for item in items:
        prediction = PredictionRecord.objects.get(event_id=item["event_id"])
        record = prediction.computed_explanation
        body = payload(record.entry)
        assert body["kind"] == "explanation"
        assert bytes(record.entry.leaf_hash) == merkle.leaf_hash(bytes(record.entry.canonical))
        assert body["event_id"] == item["event_id"]
        assert body["prediction"] == {
            "entry_id": prediction.entry_id,
            "leaf_index": Leaf.objects.get(entry_id=prediction.entry_id).index,
            "leaf_hash": prediction.entry.leaf_hash_hex,
        }
        assert body["artifact_sha256"] == uploaded.sha256
        assert body["explainer"]["method"] == "shap.LinearExplainer"
        assert body["explainer"]["output_space"] == "log_odds"
        assert body["explainer"]["background_sha256"] == uploaded.background_sha256
        expected, base = by_hand(trained, background_rows, item["inputs"])
        assert body["contributions"] == pytest.approx(expected, abs=1e-9)
        assert body["base_value"] == pytest.approx(base, abs=1e-9)
        # additive in log-odds, and the log-odds are the score the service logged
        total = body["base_value"] + sum(body["contributions"].values())
        assert total == pytest.approx(body["model_output"], abs=1e-9)
        assert sigmoid(body["model_output"]) == pytest.approx(item["output"]["score"], abs=1e-9)
        assert body["additivity"]["holds"] is True
        assert body["favourable_sign"] == 1
        assert record.additive is True
        assert record.contributions == pytest.approx(expected, abs=1e-9)


def test_a_prediction_logged_with_an_explanation_keeps_it(uploaded, service_client, trained):
    sent = applications(trained, 3, explanation={"income": 0.4, "delinquencies": -1.1})
    log(service_client, sent + applications(trained, 2, seed=5))
    seal_all()
    done = explain_all()
    assert (done.explained, done.logged) == (2, 3)
    for item in sent:
        prediction = PredictionRecord.objects.get(event_id=item["event_id"])
        assert not ExplanationRecord.objects.filter(prediction=prediction).exists()
    assert ExplainerProgress.objects.get(version=uploaded.version).logged_with_explanation == 3


def test_predictions_logged_before_the_artifact_came_are_explained_too(
    credit_version,
    developer,
    skops_file,
    service_client,
    trained,
):
    log(service_client, applications(trained, 4))
    seal_all()
    assert explain_all().entries == 0  # no artifact, nothing to explain with
    store_artifact(credit_version, skops_file, actor=developer)
    seal_all()
    assert explain_all().explained == 4


def test_batches_carry_on_where_the_last_stopped_and_explain_each_prediction_once(
    uploaded,
    service_client,
    trained,
):
    log(service_client, applications(trained, 23))
    seal_all()
    rounds = []
    while True:
        step = explain_pending(batch=7)
        rounds.append(step.explained)
        if not step.more:
            break
    assert rounds == [7, 7, 7, 2]
    assert ExplanationRecord.objects.count() == 23
    assert explain_all().entries == 0


def test_two_explainers_on_the_same_batch_write_it_once(uploaded, service_client, trained):
    log(service_client, applications(trained, 6))
    seal_all()
    one, other = (ExplainerProgress.objects.get(version=uploaded.version) for _ in range(2))
    limit = explanations.sealed_up_to()
    first = explanations._explain_version(one, limit, 1000)
    second = explanations._explain_version(other, limit, 1000)  # it read the old watermark
    assert (first.explained, second.explained) == (6, 0)
    assert ExplanationRecord.objects.count() == 6


def test_a_prediction_missing_an_input_is_recorded_as_unexplainable(
    uploaded,
    service_client,
    trained,
):
    item = applications(trained, 1)[0]
    del item["inputs"]["income"]
    log(service_client, [item])
    seal_all()
    done = explain_all()
    assert (done.explained, done.unexplainable) == (0, 1)
    record = ExplanationRecord.objects.get()
    assert record.status == ExplanationRecord.Status.UNEXPLAINABLE
    assert record.note == "input 'income' is missing"
    assert payload(record.entry)["status"] == "unexplainable"
    assert record.contributions is None


def test_an_explanation_that_does_not_add_up_is_flagged_and_alerted(
    uploaded,
    service_client,
    trained,
    monkeypatch,
):
    real = explanations.artifacts.explainer_for(uploaded)
    # An explainer whose SHAP values no longer match the model's output (as a shap bug would).
    broken = dataclasses.replace(real, _output=lambda X: real.output(X) + 0.5)
    monkeypatch.setattr(explanations.artifacts, "explainer_for", lambda artifact: broken)
    log(service_client, applications(trained, 4))
    seal_all()
    done = explain_all()
    assert (done.explained, done.mismatches) == (4, 4)
    assert set(ExplanationRecord.objects.values_list("additive", flat=True)) == {False}
    body = payload(ExplanationRecord.objects.first().entry)
    assert body["additivity"]["holds"] is False
    assert body["additivity"]["error"] == pytest.approx(0.5)
    alert = Alert.objects.get(kind=Alert.Kind.EXPLANATION_MISMATCH)
    assert alert.version == uploaded.version
    assert alert.occurrences == 4
    assert "do not add up" in alert.message
    assert ExplainerProgress.objects.get(version=uploaded.version).mismatches == 4


def test_explanation_entries_are_sealed_and_verified_like_any_entry(
    uploaded,
    service_client,
    trained,
    tmp_path,
):
    log(service_client, applications(trained, 8))
    seal_all()
    explain_all()
    seal_all()
    count, gap = export_ledger(tmp_path / "export")
    assert gap is None
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "export/entries.jsonl").open()]
    assert kinds.count("explanation") == 8
    result = verify_directory(tmp_path / "export")
    assert result.ok, result.message
    assert result.entries == count


def test_run_explainer_once_explains_what_is_pending(uploaded, service_client, trained):
    log(service_client, applications(trained, 3))
    seal_all()
    out = StringIO()
    call_command("run_explainer", "--once", stdout=out)
    assert "Explained 3 predictions (0 unexplainable, 0 did not add up" in out.getvalue()


def test_the_celery_task_explains_what_is_pending(uploaded, service_client, trained):
    log(service_client, applications(trained, 3))
    seal_all()
    assert tasks.explain_pending.apply(kwargs={"max_seconds": 10}).get() == 3
    assert ExplanationRecord.objects.count() == 3


def test_the_explainer_loop_runs_until_told_to_stop(uploaded, service_client, trained):
    log(service_client, applications(trained, 2))
    seal_all()
    explanations.run_forever(interval=0.05, stop_after=0.3)
    assert ExplanationRecord.objects.count() == 2


def test_a_batch_is_written_in_short_transactions_that_each_move_the_watermark(
    uploaded, service_client, trained, monkeypatch
):
    monkeypatch.setattr(explanations, "WRITE_CHUNK", 3)
    sent = applications(trained, 2, explanation={"income": 0.1})
    log(service_client, applications(trained, 4) + sent + applications(trained, 4, seed=8))
    seal_all()
    done = explain_pending()
    assert (done.explained, done.logged, done.more) == (8, 2, False)
    progress = ExplainerProgress.objects.get(version=uploaded.version)
    assert (progress.explained, progress.logged_with_explanation) == (8, 2)
    assert progress.watermark_id == explanations.sealed_up_to()
    assert ExplanationRecord.objects.count() == 8


def test_stretches_of_other_entries_are_passed_over_in_one_round(
    uploaded, ai_model, developer, skops_file, service_client, trained
):
    register(ai_model, developer, skops_file, trained, label="1.1.0")  # no artifact
    log(service_client, applications(trained, 60, version="1.1.0"))
    log(service_client, applications(trained, 2, seed=4))
    seal_all()
    # one prediction per batch, so each read covers 20 entry ids: three of them hold none of ours
    assert explain_pending(batch=1).explained == 1
    assert explain_all(batch=1).explained == 1


def _priority_in_child(priority, queue) -> None:
    import os

    from compliance.explanations import lower_priority

    said = lower_priority(priority)
    queue.put((said, os.sched_getscheduler(0), os.nice(0)))


@pytest.mark.parametrize(
    "priority, said, nice",
    [("idle", "idle scheduling class", None), ("low", "nice 10", 10), ("normal", "normal", 0)],
)
def test_the_explainer_gives_ingest_the_cpu_first(priority, said, nice):
    import multiprocessing
    import os

    if not hasattr(os, "SCHED_IDLE"):
        pytest.skip("Linux scheduling classes")
    queue = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(
        target=_priority_in_child, args=(priority, queue)
    )
    child.start()
    description, policy, niceness = queue.get(timeout=10)
    child.join()
    assert said in description
    if priority == "idle":
        assert policy == os.SCHED_IDLE
    else:
        assert niceness == os.nice(0) + nice
