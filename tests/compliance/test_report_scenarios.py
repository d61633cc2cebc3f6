"""Scenarios from real failures: the checks a monitoring report runs catch each of them."""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pytest

from audit.ingest import ingest_outcomes, ingest_predictions
from compliance.reports import breaches, compute

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 11, 8, tzinfo=dt.UTC)


def log(version, rows, seed=0):
    """rows: (sex, selected, truth or None, score) tuples; returns nothing."""
    rng = np.random.default_rng(seed)
    items, outcomes = [], []
    for i, (sex, selected, truth, score) in enumerate(rows):
        event_id = str(uuid.uuid4())
        items.append(
            {
                "event_id": event_id,
                "model": version.model.slug,
                "version": version.label,
                "decided_at": (START + dt.timedelta(seconds=30 * i)).isoformat(),
                "inputs": {"income": float(rng.normal(50, 10)), "age": int(rng.integers(18, 80))},
                "output": {"score": score, "decision": int(selected)},
                "sensitive": {"sex": sex, "age_band": "25-39"},
            }
        )
        if truth is not None:
            outcomes.append(
                {
                    "outcome_id": str(uuid.uuid4()),
                    "event_id": event_id,
                    "outcome": {"label": int(truth)},
                    "observed_at": END.isoformat(),
                }
            )
    for start in range(0, len(items), 1000):
        ingest_predictions(items[start : start + 1000])
    for start in range(0, len(outcomes), 1000):
        ingest_outcomes(outcomes[start : start + 1000])


@pytest.fixture
def credit(version):
    version.baselines = {
        "selection_rate": {"overall": 0.6, "by_group": {"sex=F": 0.6, "sex=M": 0.6}},
    }
    version.evaluation_metrics = {"accuracy": 0.85, "roc_auc": 0.9}
    version.save()
    return version


def run(version, **thresholds):
    results = compute(version, START, END, checks=("fairness", "performance"), n_bootstrap=0)
    return results, breaches(results, thresholds, min_group_size=30)


def test_a_group_whose_approval_rate_drifts_by_15_percent_is_caught(credit):
    rng = np.random.default_rng(1)
    rows = [("M", rng.random() < 0.6, None, 0.7) for _ in range(1000)]
    rows += [("F", rng.random() < 0.51, None, 0.6) for _ in range(1000)]  # 0.6 → 0.51
    log(credit, rows)
    _, found = run(credit)
    drifted = [b for b in found if b.metric == "approval_rate_change"]
    assert [b.subject for b in drifted] == ["sex=F"]
    assert drifted[0].value == pytest.approx(-0.15, abs=0.04)


def test_a_12_point_accuracy_degradation_after_outcomes_arrive_is_caught(credit):
    rng = np.random.default_rng(2)
    rows = []
    for _ in range(2000):
        truth = bool(rng.random() < 0.6)
        right = rng.random() < 0.73  # validated at 0.85
        selected = truth if right else not truth
        rows.append((str(rng.choice(["F", "M"])), selected, truth, 0.8 if selected else 0.2))
    log(credit, rows)
    results, found = run(credit)
    assert results.performance["accuracy"] == pytest.approx(0.73, abs=0.03)
    (breach,) = [b for b in found if b.metric == "accuracy_drop_points"]
    assert breach.value == pytest.approx(12, abs=3)


def test_a_group_below_the_minimum_size_is_insufficient_and_never_fails(credit):
    rows = [("M", True, None, 0.9) for _ in range(300)]
    rows += [("F", False, None, 0.1) for _ in range(12)]  # selected at 0%: but only 12 of them
    log(credit, rows)
    results, found = run(credit)
    (sex,) = [a for a in results.fairness["attributes"] if a["attribute"] == "sex"]
    female = next(g for g in sex["groups"] if g["label"] == "sex=F")
    assert female["status"] == "insufficient data"
    ratio = next(r for r in sex["four_fifths"] if r["label"] == "sex=F")
    assert ratio["status"] == "insufficient data"
    assert not [b for b in found if b.subject.startswith("sex=F")]


def test_a_four_fifths_breach_names_the_group_and_its_ratio(credit):
    rows = [("M", i % 10 < 6, None, 0.6) for i in range(500)]
    rows += [("F", i % 10 < 4, None, 0.4) for i in range(500)]  # 0.4 / 0.6 = 0.67
    log(credit, rows)
    _, found = run(credit)
    ratios = {b.subject: b for b in found if b.metric == "impact_ratio"}
    assert set(ratios) == {"sex=F", "sex=F & age_band=25-39"}  # the intersection too
    breach = ratios["sex=F"]
    assert breach.value == pytest.approx(2 / 3)
    assert "four-fifths" in breach.message and breach.key == "fairness:impact_ratio:sex=F"


def test_a_fair_stable_model_breaches_nothing(credit):
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(1000):
        truth = bool(rng.random() < 0.6)
        selected = truth if rng.random() < 0.86 else not truth
        rows.append((str(rng.choice(["F", "M"])), selected, truth, 0.8 if selected else 0.2))
    log(credit, rows)
    _, found = run(credit, approval_rate_change_max=0.2)
    assert found == []
