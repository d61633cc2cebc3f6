"""PSI sees tied and zero-inflated features, and never scores what it cannot (issue #17, point 6).

Decile bins merge where the training deciles tie: a mostly-zero feature got the edges
(-inf, 0, inf), whose first bin is always empty, so no move off or onto zero could show.
A value holding at least a tenth of the training rows now gets a bin of its own.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from compliance.drift import (
    EPSILON,
    baseline_from_dict,
    feature_drift,
    population_stability_index,
    training_baseline,
)
from compliance.reports import breaches, compute
from tests.compliance.test_report_scenarios import END, START, log


def capital_gains(rng, n: int, zero_share: float) -> np.ndarray:
    """Mostly zero, otherwise a long-tailed positive amount: training deciles tie at 0."""
    return np.where(rng.random(n) < zero_share, 0.0, rng.lognormal(8, 1, size=n))


def test_a_zero_inflated_feature_whose_rows_all_move_above_zero_is_significant_drift():
    rng = np.random.default_rng(0)
    baseline = training_baseline(capital_gains(rng, 20_000, zero_share=0.92))

    drift = population_stability_index("capital_gain", capital_gains(rng, 2000, 0.0), baseline)

    assert drift.psi > 0.2 and drift.band == "significant"


def test_a_zero_inflated_feature_whose_rows_all_become_zero_is_significant_drift():
    rng = np.random.default_rng(1)
    baseline = training_baseline(capital_gains(rng, 20_000, zero_share=0.92))

    drift = population_stability_index("capital_gain", np.zeros(2000), baseline)

    assert drift.psi > 0.2 and drift.band == "significant"


def test_a_zero_inflated_feature_from_the_training_distribution_is_stable():
    rng = np.random.default_rng(2)
    baseline = training_baseline(capital_gains(rng, 20_000, zero_share=0.92))

    drift = population_stability_index("capital_gain", capital_gains(rng, 20_000, 0.92), baseline)

    assert drift.psi < 0.1 and drift.band == "stable"


@pytest.mark.parametrize("moved_to", [6.0, 4.0])
def test_a_constant_feature_that_moves_either_way_scores_the_same_significant_psi(moved_to):
    baseline = training_baseline(np.full(1000, 5.0))

    drift = population_stability_index("term_years", np.full(200, moved_to), baseline)

    # Every row leaves the bin holding all the training rows for an empty one (floored).
    expected = 2 * (1 - EPSILON) * math.log(1 / EPSILON)
    assert drift.psi == pytest.approx(expected, rel=1e-9) and drift.band == "significant"


def test_a_point_mass_has_a_bin_of_its_own_that_survives_strict_json():
    baseline = training_baseline(np.full(1000, 5.0))

    stored = baseline_from_dict(json.loads(json.dumps(baseline.to_dict(), allow_nan=False)))

    assert stored == baseline
    drift = population_stability_index("term_years", np.full(10, 5.0), stored)
    assert [(b.label, b.baseline) for b in drift.bins] == [
        ("[-inf, 5)", 0.0),
        ("= 5", 1.0),
        ("(5, inf)", 0.0),
    ]
    assert drift.psi == 0.0


def test_a_continuous_feature_keeps_its_decile_edges():
    values = np.random.default_rng(3).normal(size=10_000)

    baseline = training_baseline(values)

    deciles = np.quantile(values, np.linspace(0, 1, 11)[1:-1])
    assert baseline.edges == (-math.inf, *deciles.tolist(), math.inf)


def test_an_all_missing_baseline_says_the_feature_cannot_be_scored():
    baseline = training_baseline(np.full(500, np.nan))

    drift = population_stability_index("income", np.array([1.0, 2.0]), baseline.to_dict())

    assert drift.psi is None and drift.band == "not scored"
    assert drift.reason == "every training value of income was missing"
    assert json.dumps(drift.to_dict(), allow_nan=False)


def test_an_all_missing_window_says_the_feature_cannot_be_scored():
    baseline = training_baseline(np.random.default_rng(4).normal(size=1000))

    (drift,) = feature_drift({"income": np.full(30, np.nan)}, {"income": baseline.to_dict()})

    assert drift.psi is None and drift.band == "not scored"
    assert drift.reason == "every value of income in the window (30 rows) was missing"


@pytest.mark.parametrize("kind", ["numeric", "categorical"])
def test_an_empty_window_is_never_scored(kind):
    rng = np.random.default_rng(5)
    training = rng.normal(size=1000) if kind == "numeric" else rng.choice(["a", "b"], 1000)
    empty = np.array([], dtype=training.dtype)

    drift = population_stability_index("feature", empty, training_baseline(training))

    assert (drift.n, drift.psi, drift.band) == (0, None, "not scored")
    assert drift.reason == "the window has no rows"


@pytest.fixture
def logged_incomes(version):
    """A version whose window logged 300 decisions with incomes around 50, never 0."""
    log(version, [("M", 1, None, 0.7)] * 150 + [("F", 0, None, 0.4)] * 150)
    return version


def drift_report(version, features):
    version.baselines = {"features": features}
    version.save()
    results = compute(version, START, END, checks=("drift",))
    return results, breaches(results, {}, min_group_size=30)


@pytest.mark.django_db
def test_a_monitoring_report_catches_a_zero_inflated_feature_moving_off_zero(logged_incomes):
    mostly_zero = capital_gains(np.random.default_rng(6), 5000, zero_share=0.92)

    _, found = drift_report(logged_incomes, {"income": training_baseline(mostly_zero).to_dict()})

    assert [(b.metric, b.subject) for b in found] == [("psi", "income")]


@pytest.mark.django_db
def test_a_monitoring_report_says_a_feature_without_training_values_was_not_scored(
    logged_incomes,
):
    features = {"income": training_baseline(np.full(100, np.nan)).to_dict()}

    results, found = drift_report(logged_incomes, features)

    assert found == [] and results.drift[0]["psi"] is None
    assert "Drift of income not scored: every training value of income was missing." in (
        results.notes
    )
