"""Intervals on disparities cover the true difference at their nominal rate (issue #17, point 4).

A disparity is max - min (or min / max) over groups, a statistic that is not smooth where two
groups' rates cross: a percentile bootstrap of it sits above the estimate and misses the truth.
Each configuration here draws 500 synthetic replications of per-group counts with known rates
and counts how often the reported 95% interval contains the true disparity.
"""

from __future__ import annotations

import numpy as np
import pytest

from compliance.fairness import FairnessOptions, GroupCounts, assess_groups

REPLICATIONS = 500
OPTIONS = FairnessOptions(min_group_size=0, confidence=0.95)  # what reports use, every group
CONFIGURATIONS = {  # group sizes, selection rates (true TPR for the outcome configurations)
    "2 equal groups of 50, no disparity": ((50, 50), (0.5, 0.5)),
    "50 against 5,000, no disparity": ((50, 5000), (0.3, 0.3)),
    "2 groups of 200, disparity 0.1": ((200, 200), (0.4, 0.5)),
    "5,000 against 5,000, disparity 0.01": ((5000, 5000), (0.5, 0.51)),
    "4 groups of 50, no disparity": ((50, 50, 50, 50), (0.5, 0.5, 0.5, 0.5)),
    "4 groups of 50, disparity 0.05": ((50, 50, 50, 50), (0.3, 0.35, 0.3, 0.3)),
    "4 groups of 1,000, disparity 0.05": ((1000,) * 4, (0.45, 0.5, 0.5, 0.5)),
    "4 groups of 50 to 5,000, disparity 0.4": ((50, 500, 5000, 100), (0.3, 0.4, 0.5, 0.7)),
}


def coverage(n, rate, statistic, interval_of, draw) -> float:
    """Share of replications whose interval for ``statistic`` holds its true value."""
    rng = np.random.default_rng(17)
    truth = statistic(np.asarray(rate))
    hits = 0
    for cells in draw(rng, np.asarray(n), np.asarray(rate)):
        low, high = interval_of(cells)
        hits += low - 1e-12 <= truth <= high + 1e-12
    return hits / REPLICATIONS


def selections(rng, n, rate):
    """Cells (selected, 0, not selected, 0) per group: what a window without outcomes counts."""
    selected = rng.binomial(n, rate, size=(REPLICATIONS, len(n)))
    zeros = np.zeros_like(selected)
    return np.stack([selected, zeros, n - selected, zeros], axis=-1)


def outcomes(rng, n, rate):
    """Cells (tp, fp, tn, fn) per group: n positives at true-positive rate ``rate``, and as many
    negatives at a false-positive rate of 0.2 in every group."""
    tp = rng.binomial(n, rate, size=(REPLICATIONS, len(n)))
    fp = rng.binomial(n, 0.2, size=(REPLICATIONS, len(n)))
    return np.stack([tp, fp, n - fp, n - tp], axis=-1)


def disparity_interval(name, known):
    def interval_of(cells):
        labels = tuple(f"g={i}" for i in range(len(cells)))
        result = assess_groups(GroupCounts("g", labels, cells, known), OPTIONS)
        return result.disparity.intervals[name]

    return interval_of


def spread(rate):
    return rate.max() - rate.min()


def ratio(rate):
    return rate.min() / rate.max()


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_the_demographic_parity_difference_interval_covers_the_true_difference(configuration):
    n, rate = CONFIGURATIONS[configuration]
    interval_of = disparity_interval("demographic_parity_difference", known=False)

    assert coverage(n, rate, spread, interval_of, selections) >= 0.93


@pytest.mark.parametrize("configuration", list(CONFIGURATIONS)[::2])
def test_the_demographic_parity_ratio_interval_covers_the_true_ratio(configuration):
    n, rate = CONFIGURATIONS[configuration]
    interval_of = disparity_interval("demographic_parity_ratio", known=False)

    assert coverage(n, rate, ratio, interval_of, selections) >= 0.93


@pytest.mark.parametrize("configuration", list(CONFIGURATIONS)[::3])
def test_the_equal_opportunity_interval_covers_the_true_difference(configuration):
    n, rate = CONFIGURATIONS[configuration]
    interval_of = disparity_interval("equal_opportunity_difference", known=True)

    assert coverage(n, rate, spread, interval_of, outcomes) >= 0.93


@pytest.mark.parametrize("configuration", list(CONFIGURATIONS)[::3])
def test_the_equalized_odds_interval_covers_the_true_difference(configuration):
    n, rate = CONFIGURATIONS[configuration]
    interval_of = disparity_interval("equalized_odds_difference", known=True)

    # The false-positive rate is 0.2 in every group, so the larger difference is the TPR's.
    assert coverage(n, rate, spread, interval_of, outcomes) >= 0.93


def test_a_disparity_interval_contains_its_estimate():
    cells = np.array([[31, 0, 19, 0], [2500, 0, 2500, 0]])  # rates 0.62 and 0.5

    disparity = assess_groups(GroupCounts("g", ("g=a", "g=b"), cells, False), OPTIONS).disparity

    low, high = disparity.intervals["demographic_parity_difference"]
    assert low <= disparity.demographic_parity_difference <= high
    low, high = disparity.intervals["demographic_parity_ratio"]
    assert low <= disparity.demographic_parity_ratio <= high


def test_a_single_group_has_no_disparity_and_its_intervals_say_so():
    cells = np.array([[30, 10, 50, 10]])

    disparity = assess_groups(GroupCounts("g", ("g=a",), cells), OPTIONS).disparity

    assert disparity.intervals["demographic_parity_difference"] == (0.0, 0.0)
    assert disparity.intervals["equalized_odds_difference"] == (0.0, 0.0)
    assert disparity.intervals["demographic_parity_ratio"] == (1.0, 1.0)
    assert disparity.demographic_parity_ratio == 1.0
