"""Time a fairness report against fairlearn's MetricFrame on the same arrays.

    .venv/bin/python benchmarks/fairness_vs_fairlearn.py --rows 1000000

Workload on both sides: for each of three sensitive attributes, six per-group metrics
(selection rate, TPR, FPR, FNR, precision, accuracy) and the disparities (demographic parity
difference and ratio, equalized odds difference and ratio, equal opportunity difference).
fairlearn gets its cheapest path: one MetricFrame per attribute, disparities from
``difference()`` / ``ratio()`` of that frame. The numbers are checked to agree to 1e-9 before
any time is printed. Target (DESIGN.md): at least 20x faster.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn.metrics as skm
from fairlearn import metrics as flm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from compliance.fairness import RATES, FairnessOptions, fairness_report  # noqa: E402

METRICS = {
    "selection_rate": flm.selection_rate,
    "true_positive_rate": flm.true_positive_rate,
    "false_positive_rate": flm.false_positive_rate,
    "false_negative_rate": flm.false_negative_rate,
    "precision": skm.precision_score,
    "accuracy": skm.accuracy_score,
}


def generate(rows: int, seed: int):
    rng = np.random.default_rng(seed)
    features = {
        "sex": rng.choice(["F", "M", "X"], size=rows, p=[0.49, 0.49, 0.02]),
        "age_band": rng.choice(["18-24", "25-34", "35-44", "45-54", "55+"], size=rows),
        "region": rng.choice([f"R{i:02d}" for i in range(8)], size=rows),
    }
    y_true = (rng.random(rows) < 0.35).astype(np.int64)
    lift = np.where(features["sex"] == "F", -0.08, 0.0) + 0.25 * y_true
    y_pred = (rng.random(rows) < 0.3 + lift).astype(np.int64)
    return y_true, y_pred, features


def with_fairlearn(y_true, y_pred, features):
    result = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # precision of a group with no predicted positives
        for name, values in features.items():
            frame = flm.MetricFrame(
                metrics=METRICS, y_true=y_true, y_pred=y_pred, sensitive_features=values
            )
            difference, ratio = frame.difference(), frame.ratio()
            disparity = {
                "demographic_parity_difference": difference["selection_rate"],
                "demographic_parity_ratio": ratio["selection_rate"],
                "equalized_odds_difference": max(
                    difference["true_positive_rate"], difference["false_positive_rate"]
                ),
                "equalized_odds_ratio": min(
                    ratio["true_positive_rate"], ratio["false_positive_rate"]
                ),
                "equal_opportunity_difference": difference["true_positive_rate"],
            }
            result[name] = (frame.by_group, disparity)
    return result


def with_attest(y_true, y_pred, features, options: FairnessOptions):
    return fairness_report(y_true, y_pred, features, options)


def check_agreement(fairlearn_result, report) -> float:
    """Largest absolute difference over every number both sides computed."""
    worst = 0.0
    for attribute in report.attributes:
        by_group, disparity = fairlearn_result[attribute.attribute]
        for group in attribute.groups:
            row = by_group.loc[group.label.split("=", 1)[1]]
            worst = max(worst, *(abs(getattr(group, m) - row[m]) for m in RATES))
        worst = max(
            worst, *(abs(getattr(attribute.disparity, k) - v) for k, v in disparity.items())
        )
    return worst


def timed(function, repeats: int, *args):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs per side; median is shown")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    y_true, y_pred, features = generate(args.rows, args.seed)
    same_work = FairnessOptions(min_group_size=0, n_bootstrap=0, intersections=False)
    full = FairnessOptions()  # min group 30, 1000 bootstrap resamples, pairwise intersections

    theirs, fairlearn_result = timed(with_fairlearn, args.repeats, y_true, y_pred, features)
    ours, report = timed(with_attest, args.repeats, y_true, y_pred, features, same_work)
    ours_full, _ = timed(with_attest, args.repeats, y_true, y_pred, features, full)
    worst = check_agreement(fairlearn_result, report)
    if not worst <= 1e-9:
        sys.exit(f"numbers disagree with fairlearn: max abs difference {worst:.3g}")

    print(f"rows: {args.rows:,}  attributes: 3  metrics: 6 per group + 5 disparities")
    print(f"agreement with fairlearn: max abs difference {worst:.1e}")
    print(f"{'':44}{'median s':>10}{'speed-up':>10}")
    print(f"{'fairlearn MetricFrame (one per attribute)':44}{theirs:10.3f}{'1.0x':>10}")
    print(f"{'attest fairness_report (same work)':44}{ours:10.3f}{theirs / ours:9.1f}x")
    print(
        f"{'attest + 1000 bootstrap CIs + intersections':44}{ours_full:10.3f}"
        f"{theirs / ours_full:9.1f}x"
    )


if __name__ == "__main__":
    main()
