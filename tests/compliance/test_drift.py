"""Drift against the training baseline, approval-rate drift and performance once outcomes arrive."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import accuracy_score, roc_auc_score

from compliance.drift import (
    EPSILON,
    CategoricalBaseline,
    NumericBaseline,
    approval_rate_drift,
    baseline_from_dict,
    feature_drift,
    performance,
    population_stability_index,
    psi_band,
    training_baseline,
)

THIRDS = NumericBaseline((-math.inf, 0.0, 1.0, math.inf), (0.25, 0.5, 0.25))


def test_psi_equals_the_hand_computed_value():
    current = np.array([-1.0, -2.0, 0.5, 3.0])  # shares 0.5, 0.25, 0.25 against 0.25, 0.5, 0.25

    drift = population_stability_index("income", current, THIRDS)

    assert drift.psi == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(2), abs=1e-12)
    assert [b.label for b in drift.bins] == ["[-inf, 0)", "[0, 1)", "[1, inf)"]
    assert drift.band == "significant"


def test_an_empty_bin_is_floored_at_epsilon_instead_of_making_psi_infinite():
    current = np.array([0.5, 0.5, 2.0, 2.0])  # nothing below 0

    drift = population_stability_index("income", current, THIRDS)

    expected = (EPSILON - 0.25) * math.log(EPSILON / 0.25) + 0 + 0.25 * math.log(0.5 / 0.25)
    assert drift.psi == pytest.approx(expected, abs=1e-12)


def test_psi_is_about_zero_for_a_sample_from_the_training_distribution():
    rng = np.random.default_rng(0)
    baseline = training_baseline(rng.normal(size=100_000))

    drift = population_stability_index("score", rng.normal(size=100_000), baseline)

    assert drift.psi < 0.01 and drift.band == "stable"


def test_psi_is_significant_for_a_clearly_shifted_distribution():
    rng = np.random.default_rng(1)
    baseline = training_baseline(rng.normal(size=100_000))

    drift = population_stability_index("score", rng.normal(loc=0.8, size=50_000), baseline)

    assert drift.psi > 0.2 and drift.band == "significant"


def test_psi_bands_follow_the_usual_thresholds():
    assert [psi_band(x) for x in (0.0, 0.099, 0.1, 0.2, 0.2001)] == [
        "stable",
        "stable",
        "moderate",
        "moderate",
        "significant",
    ]


def test_a_training_baseline_has_decile_bins_with_open_ends():
    baseline = training_baseline(np.arange(1000, dtype=float))

    assert baseline.edges[0] == -math.inf and baseline.edges[-1] == math.inf
    assert len(baseline.proportions) == 10
    assert baseline.proportions == pytest.approx([0.1] * 10, abs=0.002)


def test_tied_training_values_merge_their_deciles():
    baseline = training_baseline(np.array([0.0] * 700 + list(range(1, 301)), dtype=float))

    assert len(baseline.edges) < 11
    assert sum(baseline.proportions) == pytest.approx(1.0)


def test_a_baseline_round_trips_through_strict_json():
    rng = np.random.default_rng(2)
    numeric = training_baseline(np.where(rng.random(1000) < 0.1, np.nan, rng.normal(size=1000)))
    categorical = training_baseline(rng.choice(["a", "b", "c"], size=1000))

    for baseline in (numeric, categorical):
        stored = json.loads(json.dumps(baseline.to_dict(), allow_nan=False))
        assert baseline_from_dict(stored) == baseline
    assert numeric.to_dict()["edges"][0] is None
    assert numeric.missing == pytest.approx(0.1, abs=0.03)


def test_missing_values_are_a_bin_of_their_own():
    baseline = NumericBaseline((-math.inf, 0.0, math.inf), (0.5, 0.5), missing=0.0)

    drift = population_stability_index("age", np.array([-1.0, 1.0, np.nan, np.nan]), baseline)

    assert drift.bins[-1].label == "(missing)" and drift.bins[-1].current == 0.5
    shares = [(0.25, 0.5), (0.25, 0.5), (0.5, EPSILON)]
    assert drift.psi == pytest.approx(sum((a - e) * math.log(a / e) for a, e in shares))


def test_categorical_psi_counts_unseen_categories_against_an_epsilon_baseline():
    baseline = CategoricalBaseline(("car", "home"), (0.6, 0.4))
    current = np.array(["car", "home", "home", "boat"])

    drift = population_stability_index("purpose", current, baseline.to_dict())

    assert [(b.label, b.current) for b in drift.bins] == [
        ("car", 0.25),
        ("home", 0.5),
        ("(unseen)", 0.25),
    ]
    shares = [(0.25, 0.6), (0.5, 0.4), (0.25, EPSILON)]
    assert drift.psi == pytest.approx(sum((a - e) * math.log(a / e) for a, e in shares))


def test_feature_drift_covers_every_feature_that_has_a_baseline():
    rng = np.random.default_rng(3)
    training = {"income": rng.normal(size=5000), "score": rng.random(5000)}
    baselines = {name: training_baseline(values).to_dict() for name, values in training.items()}
    current = {"income": rng.normal(size=5000), "score": rng.random(5000), "extra": np.ones(5)}

    report = feature_drift(current, baselines)

    assert [d.feature for d in report] == ["income", "score"]
    assert all(d.band == "stable" for d in report)


def test_approval_rate_drift_reports_absolute_and_relative_change_overall_and_per_group():
    y_pred = np.array([1, 1, 0, 0, 1, 0, 0, 0])
    sex = np.array(["F", "F", "F", "F", "M", "M", "M", "M"])

    drift = approval_rate_drift(y_pred, 0.5, {"sex": sex}, {"sex=F": 0.5, "sex=M": 0.5})

    assert drift.overall.current_rate == 0.375
    assert drift.overall.absolute_change == pytest.approx(-0.125)
    assert drift.overall.relative_change == pytest.approx(-0.25)
    assert [(g.group, g.n, g.current_rate) for g in drift.groups] == [
        ("sex=F", 4, 0.5),
        ("sex=M", 4, 0.25),
    ]
    assert drift.groups[1].relative_change == pytest.approx(-0.5)


def test_a_group_without_a_baseline_has_no_change_to_report():
    drift = approval_rate_drift(np.array([1, 0]), 0.0, {"sex": np.array(["F", "M"])})

    assert drift.overall.relative_change is None  # a baseline of 0 has no relative change
    assert drift.groups[0].baseline_rate is None and drift.groups[0].absolute_change is None


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_accuracy_and_roc_auc_equal_sklearns(seed):
    rng = np.random.default_rng(seed)
    y_true = (rng.random(20_000) < 0.3).astype(float)
    y_score = np.clip(rng.normal(0.3 + 0.2 * y_true, 0.2), 0, 1).round(2)  # many ties

    report = performance(y_true, y_score, threshold=0.4)

    assert report.roc_auc == pytest.approx(roc_auc_score(y_true, y_score), abs=1e-9)
    assert report.accuracy == pytest.approx(accuracy_score(y_true, y_score >= 0.4), abs=1e-9)


def test_the_reliability_table_equals_sklearns_calibration_curve():
    rng = np.random.default_rng(4)
    y_score = rng.random(10_000)
    y_true = (rng.random(10_000) < y_score**2).astype(float)

    report = performance(y_true, y_score, n_bins=10)

    observed, predicted = calibration_curve(y_true, y_score, n_bins=10)
    bins = [b for b in report.reliability if b.count]
    assert [b.observed_rate for b in bins] == pytest.approx(observed, abs=1e-9)
    assert [b.mean_predicted for b in bins] == pytest.approx(predicted, abs=1e-9)
    weights = [b.count / 10_000 for b in bins]
    ece = sum(w * abs(o - p) for w, o, p in zip(weights, observed, predicted, strict=True))
    assert report.expected_calibration_error == pytest.approx(ece, abs=1e-12)


def test_only_predictions_whose_outcome_has_arrived_are_scored():
    y_true = np.array([1, 0, np.nan, np.nan])
    y_score = np.array([0.9, 0.2, 0.1, 0.8])

    report = performance(y_true, y_score)

    assert (report.n_predictions, report.n_with_outcome) == (4, 2)
    assert report.accuracy == 1.0 and report.roc_auc == 1.0


def test_degradation_is_reported_in_points_against_the_validation_metrics():
    y_true = np.array([1, 1, 0, 0, 1])
    y_pred = np.array([1, 0, 0, 1, 1])
    y_score = np.array([0.9, 0.4, 0.3, 0.6, 0.8])
    reference = {"accuracy": 0.9, "expected_calibration_error": 0.05, "gini": 0.5}

    report = performance(y_true, y_score, y_pred=y_pred, reference=reference)

    accuracy, ece = report.degradation
    assert (accuracy.metric, accuracy.current) == ("accuracy", 0.6)
    assert accuracy.drop_points == pytest.approx(30.0)
    assert ece.drop_points == pytest.approx((report.expected_calibration_error - 0.05) * 100)


def test_roc_auc_and_calibration_are_none_when_they_cannot_be_computed():
    report = performance(np.array([1.0, 1.0]), np.array([2.5, 3.0]))

    assert report.roc_auc is None and report.expected_calibration_error is None
    assert json.dumps(report.to_dict(), allow_nan=False)
