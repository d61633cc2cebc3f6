"""On PostgreSQL, for real: ingest never waits for SHAP, and explainers running at once beside
ingest and the sequencer explain every prediction exactly once."""

from __future__ import annotations

import dataclasses
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from audit.ingest import ingest_predictions
from audit.models import ExplanationRecord, PredictionRecord
from audit.sequencer import seal_all
from compliance import explanations
from tests.audit.conftest import POSTGRES
from tests.compliance.explain_support import applications

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not POSTGRES, reason="concurrent transactions need PostgreSQL"),
]


def in_thread(target, *args) -> threading.Thread:
    def run():
        try:
            target(*args)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_ingest_does_not_wait_while_shap_is_computing(uploaded, trained, monkeypatch):
    """SHAP is held mid-computation until ingest and sealing have finished: had either waited
    for the explainer, SHAP would have been released by its timeout first."""
    real = explanations.artifacts.explainer_for(uploaded)
    computing, finish, returned = threading.Event(), threading.Event(), threading.Event()

    def slow_shap(X):
        computing.set()
        finish.wait(60)
        returned.set()
        return real._shap(X)

    slow = dataclasses.replace(real, _shap=slow_shap)
    monkeypatch.setattr(explanations.artifacts, "explainer_for", lambda artifact: slow)
    ingest_predictions(applications(trained, 50))
    seal_all()
    explainer = in_thread(explanations.explain_all)
    assert computing.wait(10)
    receipts = ingest_predictions(applications(trained, 500, seed=3))
    sealed = seal_all()
    assert not returned.is_set(), "ingest and sealing waited for SHAP to finish"
    finish.set()
    explainer.join(20)
    assert len(receipts) == 500 and sealed >= 500
    assert ExplanationRecord.objects.count() >= 50


def test_explainers_at_once_beside_ingest_explain_each_prediction_once(uploaded, trained):
    stop = threading.Event()

    def ingest(seed):
        for round_ in range(6):
            ingest_predictions(applications(trained, 100, seed=seed * 100 + round_))
            seal_all()

    def explain():
        while not stop.is_set():
            explanations.explain_pending(batch=64)

    writers = [in_thread(ingest, seed) for seed in (1, 2)]
    explainers = [in_thread(explain) for _ in range(3)]
    for thread in writers:
        thread.join(60)
    seal_all()
    explanations.explain_all()
    stop.set()
    for thread in explainers:
        thread.join(30)
    explanations.explain_all()
    assert PredictionRecord.objects.count() == 1200
    assert ExplanationRecord.objects.count() == 1200
    assert ExplanationRecord.objects.values("prediction").distinct().count() == 1200
    seal_all()
    call_command("verify_ledger", stdout=StringIO())


def test_the_low_priority_loop_writes_through_its_normal_priority_writer(
    uploaded, trained, monkeypatch
):
    ingest_predictions(applications(trained, 40))
    seal_all()
    writers = []
    real_write = explanations._write

    def spying_write(*args):
        writers.append(threading.current_thread().name)
        return real_write(*args)

    monkeypatch.setattr(explanations, "_write", spying_write)
    # in a thread of its own: the idle scheduling class is per thread
    loop = in_thread(lambda: explanations.run_forever(0.05, 1.5, 1000, priority="idle"))
    loop.join(20)
    assert ExplanationRecord.objects.count() == 40
    assert writers and all(name.startswith("explainer-writer") for name in writers)
