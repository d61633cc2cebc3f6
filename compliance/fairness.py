"""Group fairness metrics from per-group confusion counts. Pure: no Django, no ORM.

The core works on counts (tp, fp, tn, fn per group), which is what ``GROUP BY group`` with
``SUM(CASE ...)`` returns, so the database can do the heavy lifting; ``group_counts()`` builds
the same counts from arrays with one ``bincount`` per attribute.

Numbers equal fairlearn 0.15 / scikit-learn 1.9 (the tests check to 1e-9). As there, a rate
whose denominator is zero is 0.0, not NaN: fairlearn's TPR/FPR/FNR come from a row-normalised
confusion matrix with NaN replaced by 0, and ``precision_score``'s default
``zero_division="warn"`` gives 0.0 when nothing was predicted positive. Such rates are named in
``GroupMetrics.undefined`` so a report can show "n/a". Differences are max - min over groups
(fairlearn's "between_groups"), ratios min / max (NaN when every rate is 0), and equalized odds
takes the worse of the TPR and FPR figures.

Groups smaller than ``min_group_size`` are labelled "insufficient data": their rates are shown,
but they are left out of the disparities and never pass or fail the four-fifths check. Without
outcomes (``y_true=None``) only selection rates and demographic parity exist.

A group's rates get a stratified (per-group) percentile bootstrap interval. Resampling a
group's n rows with replacement is the same as drawing its four cell counts from multinomial(n,
cell proportions), so each resample costs O(groups), not O(rows).

The disparities do not: max - min and min / max are not smooth where two groups' rates cross,
and a percentile bootstrap of them sits above the estimate (with no true difference it almost
never contains 0). A difference's interval is the widest of Newcombe's hybrid score intervals
(Newcombe 1998, method 10) for every pair of groups, Bonferroni-adjusted over the pairs: when
every pair's interval holds, the largest pairwise difference lies between the largest lower and
the largest upper limit, so the interval covers at least as often as its nominal level. A
ratio's interval comes the same way from Wilson intervals for every group's rate, Bonferroni-
adjusted over the groups: while each rate is inside its interval, min / max lies between the
smallest lower over the largest upper limit and the smallest upper over the largest lower
limit. tests/compliance/test_fairness_intervals.py checks the coverage by simulation.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from itertools import combinations
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

INSUFFICIENT = "insufficient data"
FOUR_FIFTHS = (4, 5)  # 29 CFR 1607.4(D); kept as integers so the comparison is exact
RATES = ("selection_rate", "true_positive_rate", "false_positive_rate", "false_negative_rate")
RATES += ("precision", "accuracy")
CELLS = ("tp", "fp", "tn", "fn")


def jsonable(value: Any) -> Any:
    """Plain JSON types: tuples become lists, NaN/inf become None, numpy scalars Python ones."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value.item() if isinstance(value, np.generic) else value


class Serialisable:
    """Mixin for result dataclasses: ``to_dict()`` gives plain, JSON-safe types."""

    def to_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))  # type: ignore[call-overload]


@dataclass(frozen=True)
class GroupCounts:
    """Confusion counts of one attribute (or intersection): ``cells[g] = (tp, fp, tn, fn)``.

    Without outcomes, set ``outcomes_known=False`` and count selected rows as tp, the rest as tn.
    """

    attribute: str
    labels: tuple[str, ...]
    cells: np.ndarray
    outcomes_known: bool = True

    def __post_init__(self) -> None:
        cells = np.asarray(self.cells, dtype=np.int64).reshape(len(self.labels), 4)
        if (cells < 0).any() or (cells.sum(axis=1) == 0).any():
            raise ValueError(f"{self.attribute}: counts must be >= 0 and every group non-empty")
        object.__setattr__(self, "cells", cells)


@dataclass(frozen=True)
class GroupMetrics(Serialisable):
    label: str
    count: int
    status: str  # "ok" or "insufficient data"
    counts: Mapping[str, int]
    selection_rate: float
    true_positive_rate: float | None
    false_positive_rate: float | None
    false_negative_rate: float | None
    precision: float | None
    accuracy: float | None
    undefined: tuple[str, ...] = ()
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Disparity(Serialisable):
    groups_compared: int
    demographic_parity_difference: float | None
    demographic_parity_ratio: float | None
    equalized_odds_difference: float | None
    equalized_odds_ratio: float | None
    equal_opportunity_difference: float | None
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)


DISPARITIES = tuple(f.name for f in fields(Disparity))[1:-1]


@dataclass(frozen=True)
class ImpactRatio(Serialisable):
    """Selection rate relative to the highest-rate group (four-fifths rule)."""

    label: str
    impact_ratio: float | None
    status: str  # "pass", "fail", "insufficient data", or "undefined" when nobody is selected


@dataclass(frozen=True)
class AttributeFairness(Serialisable):
    attribute: str
    groups: tuple[GroupMetrics, ...]
    disparity: Disparity
    four_fifths: tuple[ImpactRatio, ...]


@dataclass(frozen=True)
class FairnessOptions(Serialisable):
    min_group_size: int = 30
    n_bootstrap: int = 1000  # resamples for the groups' intervals; 0 skips every interval
    confidence: float = 0.95
    seed: int = 0
    intersections: bool = True  # also every pair of attributes, e.g. "sex=F & age_band=25-34"


@dataclass(frozen=True)
class FairnessReport(Serialisable):
    options: FairnessOptions
    overall: GroupMetrics
    attributes: tuple[AttributeFairness, ...]


def encode_groups(values) -> tuple[tuple[str, ...], np.ndarray]:
    """Sorted group labels and each row's group code.

    ``pd.factorize`` rather than ``np.unique``: hashing beats sorting strings (1M rows: 0.03 s
    instead of 0.8 s for an object array).
    """
    codes, uniques = pd.factorize(np.asarray(values), sort=True, use_na_sentinel=False)
    return tuple(str(u) for u in uniques), codes.astype(np.int64)


def _binary(name: str, values) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or not ((array == 0) | (array == 1)).all():
        raise ValueError(f"{name} must be a 1-d array of 0/1 (drop rows without an outcome)")
    return array.astype(np.int64)


def group_counts(y_true, y_pred, sensitive_features: Mapping[str, Any], *, intersections=True):
    """``GroupCounts`` per attribute and, if asked, per pair of attributes."""
    y_pred = _binary("y_pred", y_pred)
    cell = 2 * (1 - y_pred)  # tp=0, fp=1, tn=2, fn=3
    if y_true is not None:
        cell = cell + (_binary("y_true", y_true) ^ y_pred)
    encoded = {}
    for name, values in sensitive_features.items():
        labels, codes = encode_groups(values)
        if len(codes) != len(cell):
            raise ValueError(f"{name} has {len(codes)} rows, y_pred has {len(cell)}")
        encoded[name] = ([f"{name}={label}" for label in labels], codes)
    combos = [(name,) for name in encoded]
    combos += list(combinations(encoded, 2)) if intersections else []
    result = []
    for combo in combos:
        labels, codes = encoded[combo[0]]
        for name in combo[1:]:
            other, other_codes = encoded[name]
            labels = [f"{a} & {b}" for a in labels for b in other]
            codes = codes * len(other) + other_codes
        cells = np.bincount(codes * 4 + cell, minlength=4 * len(labels)).reshape(-1, 4)
        seen = cells.sum(axis=1) > 0
        kept = tuple(label for label, keep in zip(labels, seen, strict=True) if keep)
        result.append(GroupCounts(" & ".join(combo), kept, cells[seen], y_true is not None))
    return result


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    return np.divide(numerator, denominator, out=out, where=denominator > 0)


def _rates(cells: np.ndarray) -> dict[str, np.ndarray]:
    """Every rate for counts of shape (..., 4); 0.0 where the denominator is 0 (fairlearn)."""
    tp, fp, tn, fn = np.moveaxis(cells.astype(np.float64), -1, 0)
    n = tp + fp + tn + fn
    return {
        "selection_rate": _divide(tp + fp, n),
        "true_positive_rate": _divide(tp, tp + fn),
        "false_positive_rate": _divide(fp, fp + tn),
        "false_negative_rate": _divide(fn, tp + fn),
        "precision": _divide(tp, tp + fp),
        "accuracy": _divide(tp + tn, n),
    }


def _disparities(rates: dict[str, np.ndarray], outcomes_known: bool) -> dict[str, np.ndarray]:
    """Disparities over the last axis (groups); leading axes are bootstrap resamples."""

    def difference(x: np.ndarray) -> np.ndarray:
        return x.max(axis=-1) - x.min(axis=-1)

    def ratio(x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return x.min(axis=-1) / x.max(axis=-1)

    selection = rates["selection_rate"]
    out = {
        "demographic_parity_difference": difference(selection),
        "demographic_parity_ratio": ratio(selection),
    }
    if outcomes_known:
        tpr, fpr = rates["true_positive_rate"], rates["false_positive_rate"]
        # fairlearn takes Python max()/min() of (tpr, fpr); np.where keeps its NaN ordering.
        d_tpr, d_fpr, r_tpr, r_fpr = difference(tpr), difference(fpr), ratio(tpr), ratio(fpr)
        out["equalized_odds_difference"] = np.where(d_fpr > d_tpr, d_fpr, d_tpr)
        out["equalized_odds_ratio"] = np.where(r_fpr < r_tpr, r_fpr, r_tpr)
        out["equal_opportunity_difference"] = d_tpr
    return out


def _group(label, cells, rates, index, known, status, intervals) -> GroupMetrics:
    tp, fp, tn, fn = (int(c) for c in cells)
    denominators = dict(zip(RATES[1:5], (tp + fn, fp + tn, tp + fn, tp + fp), strict=True))
    values = {name: float(rates[name][index]) for name in RATES}
    if not known:
        values |= dict.fromkeys(RATES[1:])
    return GroupMetrics(
        label=label,
        count=tp + fp + tn + fn,
        status=status,
        counts=dict(zip(CELLS, (tp, fp, tn, fn), strict=True)),
        undefined=tuple(k for k, v in denominators.items() if known and v == 0),
        intervals=intervals,
        **values,
    )


def _interval(samples: np.ndarray, confidence: float) -> list[tuple[float, float]]:
    """Percentile interval per column; NaN resamples (e.g. a 0/0 ratio) are ignored."""
    tail = (1 - confidence) / 2
    with warnings.catch_warnings():  # an all-NaN column is a (None, None) interval, not news
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(samples, [tail, 1 - tail], axis=0).reshape(2, -1)
    return [(float(lo), float(hi)) for lo, hi in zip(low, high, strict=True)]


def _bootstrap(counts: GroupCounts, options: FairnessOptions) -> list[dict[str, tuple]]:
    """Stratified bootstrap: an interval per group for each of its rates."""
    n = counts.cells.sum(axis=1)
    # Seeded per attribute, so adding an attribute to a report does not move the others.
    rng = np.random.default_rng([options.seed, zlib.crc32(counts.attribute.encode())])
    p = counts.cells / n[:, None]
    boot = _rates(rng.multinomial(n, p, size=(options.n_bootstrap, len(n))))
    names = RATES if counts.outcomes_known else RATES[:1]
    per_name = {name: _interval(boot[name], options.confidence) for name in names}
    return [{name: per_name[name][g] for name in names} for g in range(len(n))]


def _wilson(successes: np.ndarray, trials: np.ndarray, z: float):
    """Rate and Wilson score interval per group; (0, 1) where there are no trials."""
    n = trials.astype(np.float64)
    p = _divide(successes, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / shrink
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / shrink
    low = np.where(n > 0, np.clip(centre - half, 0, 1), 0.0)
    high = np.where(n > 0, np.clip(centre + half, 0, 1), 1.0)
    return p, low, high


def _z(confidence: float, comparisons: int) -> float:
    """Normal quantile of a two-sided interval, Bonferroni-adjusted over ``comparisons``."""
    return NormalDist().inv_cdf(1 - (1 - confidence) / (2 * comparisons))


def _difference_interval(rates, confidence: float) -> tuple[float, float]:
    """Interval for the largest max - min over ``rates`` (each a (successes, trials) pair)."""
    k = len(rates[0][1])
    if k < 2:
        return 0.0, 0.0
    i, j = np.triu_indices(k, 1)
    z = _z(confidence, len(rates) * len(i))
    low, high = 0.0, 0.0
    for successes, trials in rates:
        p, lo, hi = _wilson(successes, trials, z)
        d = p[i] - p[j]
        below = d - np.hypot(p[i] - lo[i], hi[j] - p[j])  # Newcombe's limits for p_i - p_j;
        above = d + np.hypot(hi[i] - p[i], p[j] - lo[j])  # p_j - p_i has (-above, -below)
        low = max(low, float(np.maximum(below, -above).max()))
        high = max(high, float(np.maximum(above, -below).max()))
    return low, min(high, 1.0)


def _ratio_interval(rates, confidence: float) -> tuple[float, float]:
    """Interval for the smallest min / max over ``rates`` (each a (successes, trials) pair)."""
    k = len(rates[0][1])
    if k < 2:
        return 1.0, 1.0
    z = _z(confidence, len(rates) * k)
    low, high = 1.0, 1.0
    with np.errstate(divide="ignore"):
        for successes, trials in rates:
            _, lo, hi = _wilson(successes, trials, z)
            low = min(low, float(lo.min() / hi.max()))
            high = min(high, float(hi.min() / lo.max()))
    return low, high


def _disparity_intervals(cells: np.ndarray, outcomes_known: bool, confidence: float):
    """Intervals for each disparity of the groups ``cells`` (see the module docstring)."""
    tp, fp, tn, fn = cells.T
    selection = [(tp + fp, cells.sum(axis=1))]
    out = {
        "demographic_parity_difference": _difference_interval(selection, confidence),
        "demographic_parity_ratio": _ratio_interval(selection, confidence),
    }
    if outcomes_known:
        tpr, fpr = (tp, tp + fn), (fp, fp + tn)
        out["equalized_odds_difference"] = _difference_interval([tpr, fpr], confidence)
        out["equalized_odds_ratio"] = _ratio_interval([tpr, fpr], confidence)
        out["equal_opportunity_difference"] = _difference_interval([tpr], confidence)
    return out


def _four_fifths(counts: GroupCounts, included: np.ndarray) -> tuple[ImpactRatio, ...]:
    selected, n = counts.cells[:, 0] + counts.cells[:, 1], counts.cells.sum(axis=1)
    rates = selected / n
    top = np.flatnonzero(included)[np.argmax(rates[included])] if included.any() else None
    num, den = FOUR_FIFTHS
    result = []
    for g, label in enumerate(counts.labels):
        if not included[g]:
            result.append(ImpactRatio(label, None, INSUFFICIENT))
        elif selected[top] == 0:
            result.append(ImpactRatio(label, None, "undefined"))
        else:
            # rate_g / rate_top >= 4/5, cross-multiplied in integers: no rounding at the edge.
            passes = den * int(selected[g]) * int(n[top]) >= num * int(selected[top]) * int(n[g])
            ratio = float(rates[g] / rates[top])
            result.append(ImpactRatio(label, ratio, "pass" if passes else "fail"))
    return tuple(result)


def assess_groups(counts: GroupCounts, options: FairnessOptions | None = None) -> AttributeFairness:
    """Per-group metrics, disparities, four-fifths check and their intervals."""
    options = options or FairnessOptions()
    cells, known = counts.cells, counts.outcomes_known
    included = cells.sum(axis=1) >= options.min_group_size
    rates = _rates(cells)
    point = {}
    if included.any():
        point = _disparities({k: v[included] for k, v in rates.items()}, known)
    group_ci, disparity_ci = [{} for _ in counts.labels], {}
    if options.n_bootstrap:
        group_ci = _bootstrap(counts, options)
    if options.n_bootstrap and included.any():
        disparity_ci = _disparity_intervals(cells[included], known, options.confidence)
    groups = tuple(
        _group(label, cells[g], rates, g, known, "ok" if included[g] else INSUFFICIENT, group_ci[g])
        for g, label in enumerate(counts.labels)
    )
    disparity = Disparity(
        groups_compared=int(included.sum()),
        **{name: float(point[name]) if name in point else None for name in DISPARITIES},
        intervals=disparity_ci,
    )
    return AttributeFairness(counts.attribute, groups, disparity, _four_fifths(counts, included))


def fairness_from_counts(
    counts: list[GroupCounts], options: FairnessOptions | None = None
) -> FairnessReport:
    """Report over counts already aggregated, by the database or by ``group_counts()``."""
    if not counts:
        raise ValueError("at least one sensitive attribute is needed")
    options = options or FairnessOptions()
    total, known = counts[0].cells.sum(axis=0), counts[0].outcomes_known
    overall = _group("overall", total, _rates(total[None]), 0, known, "ok", {})
    return FairnessReport(options, overall, tuple(assess_groups(c, options) for c in counts))


def fairness_report(
    y_true, y_pred, sensitive_features: Mapping[str, Any], options: FairnessOptions | None = None
) -> FairnessReport:
    """Fairness of decisions ``y_pred`` (1 = favourable) per attribute and pair of attributes.

    >>> report = fairness_report(y_true, y_pred, {"sex": sex, "age_band": age})
    >>> report.attributes[0].disparity.demographic_parity_difference  # attribute "sex"
    """
    options = options or FairnessOptions()
    counts = group_counts(y_true, y_pred, sensitive_features, intersections=options.intersections)
    return fairness_from_counts(counts, options)
