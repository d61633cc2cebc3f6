"""Fairness metrics agree with fairlearn, and small groups never pass or fail."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn import metrics as flm

from compliance.fairness import (
    INSUFFICIENT,
    RATES,
    FairnessOptions,
    GroupCounts,
    assess_groups,
    fairness_from_counts,
    fairness_report,
    group_counts,
)

EXACT = FairnessOptions(min_group_size=0, n_bootstrap=0)
FAIRLEARN_RATES = {
    "selection_rate": flm.selection_rate,
    "true_positive_rate": flm.true_positive_rate,
    "false_positive_rate": flm.false_positive_rate,
    "false_negative_rate": flm.false_negative_rate,
    "precision": skm.precision_score,
    "accuracy": skm.accuracy_score,
}


def sample(seed: int, n_groups: int, n: int = 3000):
    """Unbalanced groups whose selection and outcome rates differ."""
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.ones(n_groups) * 0.7)
    group = rng.choice([f"g{i}" for i in range(n_groups)], size=n, p=weights)
    bias = {f"g{i}": rng.uniform(0.2, 0.7) for i in range(n_groups)}
    y_true = (rng.random(n) < 0.4).astype(int)
    y_pred = (rng.random(n) < np.vectorize(bias.get)(group)).astype(int)
    age = rng.choice(["18-24", "25-34", "35+"], size=n, p=[0.2, 0.5, 0.3])
    return y_true, y_pred, group, age


def metric_frame(y_true, y_pred, sensitive_features) -> flm.MetricFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns when precision has no predicted positives
        return flm.MetricFrame(
            metrics=FAIRLEARN_RATES,
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=sensitive_features,
        )


def assert_matches_frame(attribute, frame: flm.MetricFrame) -> None:
    expected = frame.by_group.dropna(how="all")
    assert len(attribute.groups) == len(expected)
    for group, (key, row) in zip(attribute.groups, expected.iterrows(), strict=True):
        values = key if isinstance(key, tuple) else (key,)
        assert group.label.split(" & ") == [
            f"{name}={value}"
            for name, value in zip(attribute.attribute.split(" & "), values, strict=True)
        ]
        for name in RATES:
            assert getattr(group, name) == pytest.approx(row[name], abs=1e-9)


def assert_matches_fairlearn_disparity(disparity, y_true, y_pred, features) -> None:
    args = dict(y_true=y_true, y_pred=y_pred, sensitive_features=features)
    expected = {
        "demographic_parity_difference": flm.demographic_parity_difference(**args),
        "demographic_parity_ratio": flm.demographic_parity_ratio(**args),
        "equalized_odds_difference": flm.equalized_odds_difference(**args),
        "equalized_odds_ratio": flm.equalized_odds_ratio(**args),
        "equal_opportunity_difference": flm.equal_opportunity_difference(**args),
    }
    for name, value in expected.items():
        assert getattr(disparity, name) == pytest.approx(value, abs=1e-9, nan_ok=True), name


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_groups", [2, 3, 4, 5])
def test_group_rates_and_disparities_equal_fairlearns(seed, n_groups):
    y_true, y_pred, group, _ = sample(seed, n_groups)

    attribute = fairness_report(y_true, y_pred, {"group": group}, EXACT).attributes[0]

    assert_matches_frame(attribute, metric_frame(y_true, y_pred, group))
    assert_matches_fairlearn_disparity(attribute.disparity, y_true, y_pred, group)


@pytest.mark.parametrize("seed", [3, 4])
def test_intersections_equal_a_metric_frame_over_two_sensitive_features(seed):
    y_true, y_pred, group, age = sample(seed, 4)
    both = pd.DataFrame({"group": group, "age": age})

    report = fairness_report(y_true, y_pred, {"group": group, "age": age}, EXACT)

    assert [a.attribute for a in report.attributes] == ["group", "age", "group & age"]
    intersection = report.attributes[2]
    assert intersection.groups[0].label == "group=g0 & age=18-24"
    assert_matches_frame(intersection, metric_frame(y_true, y_pred, both))
    assert_matches_fairlearn_disparity(intersection.disparity, y_true, y_pred, both)


def test_a_group_without_actual_positives_gets_fairlearns_zero_rates_flagged_undefined():
    y_true = np.array([0, 0, 0, 1, 1, 0, 1])
    y_pred = np.array([0, 0, 0, 1, 0, 1, 1])
    group = np.array(["a", "a", "a", "b", "b", "c", "c"])

    report = fairness_report(y_true, y_pred, {"g": group}, EXACT)

    a = report.attributes[0].groups[0]
    assert (a.true_positive_rate, a.false_negative_rate, a.precision) == (0.0, 0.0, 0.0)
    assert a.undefined == ("true_positive_rate", "false_negative_rate", "precision")
    assert_matches_frame(report.attributes[0], metric_frame(y_true, y_pred, group))


def test_small_groups_are_labelled_insufficient_and_left_out_of_disparities():
    y_true, y_pred, _, age = sample(5, 3, n=2000)
    group = age.astype(object)
    group[:20] = "tiny"
    options = FairnessOptions(min_group_size=30, n_bootstrap=0)

    attribute = fairness_report(y_true, y_pred, {"group": group}, options).attributes[0]

    tiny = next(g for g in attribute.groups if g.label == "group=tiny")
    assert tiny.status == INSUFFICIENT and tiny.count == 20
    assert tiny.selection_rate == pytest.approx(y_pred[:20].mean())
    verdict = next(r for r in attribute.four_fifths if r.label == "group=tiny")
    assert (verdict.status, verdict.impact_ratio) == (INSUFFICIENT, None)
    assert attribute.disparity.groups_compared == 3
    big = group != "tiny"
    assert_matches_fairlearn_disparity(attribute.disparity, y_true[big], y_pred[big], group[big])


def test_the_four_fifths_check_flags_a_group_selected_at_70_percent_of_the_top_rate():
    selected = {"top": 50, "at_70_percent": 35, "at_80_percent": 40}
    counts = GroupCounts(
        "band",
        tuple(selected),
        [[s, 0, 100 - s, 0] for s in selected.values()],
        outcomes_known=False,
    )

    verdicts = assess_groups(counts, FairnessOptions(n_bootstrap=0)).four_fifths

    assert [(v.label, v.status) for v in verdicts] == [
        ("top", "pass"),
        ("at_70_percent", "fail"),
        ("at_80_percent", "pass"),  # exactly 4/5 passes: the rule says "less than" fails
    ]
    assert verdicts[1].impact_ratio == pytest.approx(0.7)


def test_without_outcomes_only_selection_rates_and_demographic_parity_are_reported():
    _, y_pred, group, _ = sample(6, 3)

    attribute = fairness_report(None, y_pred, {"group": group}, EXACT).attributes[0]

    assert all(g.true_positive_rate is None and g.accuracy is None for g in attribute.groups)
    assert attribute.disparity.equalized_odds_difference is None
    expected = flm.demographic_parity_difference(y_pred, y_pred, sensitive_features=group)
    assert attribute.disparity.demographic_parity_difference == pytest.approx(expected, abs=1e-9)


def test_counts_aggregated_by_the_database_give_the_same_report_as_arrays():
    y_true, y_pred, group, _ = sample(7, 3)
    options = FairnessOptions(min_group_size=30, n_bootstrap=200)
    rows = (  # what GROUP BY group with SUM(CASE ...) returns
        pd.DataFrame({"g": group, "t": y_true, "p": y_pred})
        .groupby("g")
        .apply(lambda d: pd.Series(skm.confusion_matrix(d.t, d.p, labels=[1, 0]).ravel()))
    )
    cells = rows[[0, 2, 3, 1]].to_numpy()  # confusion_matrix gives tp, fn, fp, tn
    labels = tuple(f"group={g}" for g in rows.index)

    from_db = fairness_from_counts([GroupCounts("group", labels, cells)], options)

    assert from_db == fairness_report(y_true, y_pred, {"group": group}, options)


def test_bootstrap_intervals_are_reproducible_with_the_seed():
    y_true, y_pred, group, age = sample(8, 3)
    features = {"group": group, "age": age}

    first = fairness_report(y_true, y_pred, features, FairnessOptions(seed=11))
    again = fairness_report(y_true, y_pred, features, FairnessOptions(seed=11))
    other = fairness_report(y_true, y_pred, features, FairnessOptions(seed=12))

    assert first.to_dict() == again.to_dict()
    assert first.attributes[0].groups[0].intervals != other.attributes[0].groups[0].intervals
    # The disparities' intervals come from the counts alone (Newcombe / Wilson), not resamples.
    assert first.attributes[0].disparity.intervals == other.attributes[0].disparity.intervals


def test_bootstrap_intervals_contain_the_point_estimate_on_a_large_sample():
    y_true, y_pred, group, _ = sample(9, 3, n=200_000)

    attribute = fairness_report(y_true, y_pred, {"group": group}).attributes[0]

    for g in attribute.groups:
        for name in RATES:
            low, high = g.intervals[name]
            assert low <= getattr(g, name) <= high and high - low < 0.05
    for name, (low, high) in attribute.disparity.intervals.items():
        assert low <= getattr(attribute.disparity, name) <= high


def test_the_multinomial_bootstrap_matches_resampling_rows():
    rng = np.random.default_rng(0)
    y_pred = (rng.random(500) < 0.3).astype(int)
    rows = rng.integers(0, 500, size=(4000, 500))
    counts = group_counts(None, y_pred, {"g": np.zeros(500)})[0]

    interval = assess_groups(counts, FairnessOptions(n_bootstrap=4000)).groups[0].intervals

    low, high = np.quantile(y_pred[rows].mean(axis=1), [0.025, 0.975])
    assert interval["selection_rate"] == pytest.approx((low, high), abs=0.01)


def test_the_report_serialises_to_strict_json():
    y_true, y_pred, group, age = sample(10, 2, n=500)
    group = group.astype(object)
    group[:5] = "tiny"

    report = fairness_report(y_true, y_pred, {"group": group, "age": age})

    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["options"]["min_group_size"] == 30
    assert data["attributes"][0]["groups"][0]["intervals"]["selection_rate"][0] >= 0


def test_decisions_and_outcomes_must_be_zero_or_one():
    with pytest.raises(ValueError, match="y_true"):
        fairness_report(np.array([0, np.nan]), np.array([0, 1]), {"g": np.array(["a", "b"])})
    with pytest.raises(ValueError, match="y_pred"):
        fairness_report(None, np.array([0, 2]), {"g": np.array(["a", "b"])})
