"""Data drift, approval-rate drift and performance once outcomes arrive. Pure: no Django, no ORM.

Population stability index: PSI = sum over bins of (a - e) * ln(a / e), where e is the
baseline (training) share of a bin and a the current share. An empty bin would make the log
infinite, so both shares are floored at ``EPSILON`` (1e-4) before the sum, without
renormalising; an empty bin then adds a finite, visible term instead of infinity. Bands: below
0.1 stable, 0.1 to 0.2 moderate, above 0.2 significant.

Baselines are what a model version stores: numeric features as bin edges (training deciles,
open ends -inf/+inf, written as null in JSON since JSON has no infinity) and the training share
of each bin plus of missing values; categorical features as category shares. Bins are
half-open, ``[edge_i, edge_i+1)``.

Deciles tie where one value holds many training rows (a mostly-zero capital gain, a constant):
merged, they left that value sharing a bin with everything above it and an always-empty bin
below, so rows leaving it, or piling onto it, did not move PSI. A value holding at least one
decile's share of the training rows therefore gets a bin of its own, ``[v, nextafter(v))``,
printed "= v", so a move off it in either direction is seen; a constant gets bins below, at
and above it. A feature is not scored (``psi`` None, band "not scored", ``reason`` says why)
when its window has no rows, or every training value or every window value is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata

from compliance.fairness import Serialisable, encode_groups

EPSILON = 1e-4
UNSEEN = "(unseen)"
MISSING = "(missing)"
LOWER_IS_BETTER = {"expected_calibration_error"}


NOT_SCORED = "not scored"


def psi_band(psi: float) -> str:
    return "stable" if psi < 0.1 else "moderate" if psi <= 0.2 else "significant"


@dataclass(frozen=True)
class NumericBaseline(Serialisable):
    edges: tuple[float, ...]  # ascending, first -inf, last +inf
    proportions: tuple[float, ...]  # one per bin, of the non-missing training rows
    missing: float = 0.0  # share of training rows that were NaN
    kind: str = "numeric"


@dataclass(frozen=True)
class CategoricalBaseline(Serialisable):
    categories: tuple[str, ...]
    proportions: tuple[float, ...]
    kind: str = "categorical"


def baseline_from_dict(data: Mapping[str, Any]) -> NumericBaseline | CategoricalBaseline:
    if data["kind"] == "categorical":
        return CategoricalBaseline(tuple(data["categories"]), tuple(data["proportions"]))
    edges = [np.nan if e is None else float(e) for e in data["edges"]]
    edges[0], edges[-1] = -np.inf, np.inf  # to_dict() writes the open ends as null
    return NumericBaseline(tuple(edges), tuple(data["proportions"]), data.get("missing", 0.0))


def training_baseline(
    values, *, categorical: bool | None = None, n_bins: int = 10
) -> NumericBaseline | CategoricalBaseline:
    """Baseline of a training column: decile bins if numeric, category shares otherwise."""
    values = np.asarray(values)
    if categorical is None:
        categorical = values.dtype.kind not in "iuf"
    if categorical:
        labels, codes = encode_groups(values)
        shares = np.bincount(codes, minlength=len(labels)) / len(codes)
        return CategoricalBaseline(labels, tuple(shares.tolist()))
    values = values.astype(np.float64)
    present = values[~np.isnan(values)]
    if not len(present):  # nothing to bin: scoring says so (see population_stability_index)
        return NumericBaseline((-np.inf, np.inf), (0.0,), 1.0)
    edges = (-np.inf, *_cuts(present, n_bins).tolist(), np.inf)
    shares = _bin_shares(present, edges)
    return NumericBaseline(edges, tuple(shares.tolist()), float(1 - len(present) / len(values)))


def _cuts(present: np.ndarray, n_bins: int) -> np.ndarray:
    """Inner edges: the training quantiles (ties merge), plus ``v`` and the next float above it
    for every value ``v`` holding at least 1 / n_bins of the rows, so it has a bin of its own."""
    quantiles = np.quantile(present, np.linspace(0, 1, n_bins + 1)[1:-1])
    distinct, counts = np.unique(present, return_counts=True)
    masses = distinct[counts * n_bins >= len(present)]
    return np.unique(np.concatenate([quantiles, masses, np.nextafter(masses, np.inf)]))


def _bin_shares(values: np.ndarray, edges) -> np.ndarray:
    bins = np.clip(np.searchsorted(np.asarray(edges), values, side="right") - 1, 0, len(edges) - 2)
    return np.bincount(bins, minlength=len(edges) - 1) / max(len(values), 1)


@dataclass(frozen=True)
class PsiBin(Serialisable):
    label: str
    baseline: float
    current: float
    contribution: float


@dataclass(frozen=True)
class FeatureDrift(Serialisable):
    feature: str
    kind: str
    n: int
    psi: float | None  # None when the feature could not be scored; ``reason`` says why
    band: str
    bins: tuple[PsiBin, ...]
    reason: str | None = None


def _bin_labels(edges) -> list[str]:
    """ "[lo, hi)" per bin; a point mass's own bin ``[v, nextafter(v))`` is "= v", and the bin
    after it "(v, hi)"."""
    labels = []
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        if hi == np.nextafter(lo, np.inf):
            labels.append(f"= {lo:g}")
        elif i and lo == np.nextafter(edges[i - 1], np.inf):
            labels.append(f"({edges[i - 1]:g}, {hi:g})")
        else:
            labels.append(f"[{lo:g}, {hi:g})")
    return labels


def _not_scored(feature: str, values, baseline) -> str | None:
    """Why ``values`` cannot be compared with ``baseline``, or None when they can."""
    if not len(values):
        return "the window has no rows"
    if isinstance(baseline, NumericBaseline):
        if baseline.missing >= 1:
            return f"every training value of {feature} was missing"
        if np.isnan(values.astype(np.float64)).all():
            return f"every value of {feature} in the window ({len(values):,} rows) was missing"
    return None


def population_stability_index(feature: str, values, baseline) -> FeatureDrift:
    """PSI of current ``values`` against a baseline (dataclass or its ``to_dict()`` form)."""
    if isinstance(baseline, Mapping):
        baseline = baseline_from_dict(baseline)
    values = np.asarray(values)
    reason = _not_scored(feature, values, baseline)
    if reason:
        return FeatureDrift(feature, baseline.kind, len(values), None, NOT_SCORED, (), reason)
    if isinstance(baseline, NumericBaseline):
        values = values.astype(np.float64)
        missing = np.isnan(values)
        present = values[~missing]
        share_present = len(present) / max(len(values), 1)
        current = _bin_shares(present, baseline.edges) * share_present
        expected = np.asarray(baseline.proportions) * (1 - baseline.missing)
        labels = _bin_labels(baseline.edges)
        if baseline.missing or missing.any():
            labels.append(MISSING)
            current = np.append(current, missing.mean())
            expected = np.append(expected, baseline.missing)
    else:
        seen, codes = encode_groups(values)
        counts = dict(zip(seen, np.bincount(codes, minlength=len(seen)).tolist(), strict=True))
        labels = list(baseline.categories)
        current = np.array([counts.pop(c, 0) for c in labels] + [sum(counts.values())])
        current = current / max(len(values), 1)
        expected = np.append(baseline.proportions, 0.0)
        labels.append(UNSEEN)
    a, e = np.maximum(current, EPSILON), np.maximum(expected, EPSILON)
    terms = (a - e) * np.log(a / e)
    bins = tuple(
        PsiBin(label, float(exp), float(cur), float(term))
        for label, exp, cur, term in zip(labels, expected, current, terms, strict=True)
    )
    psi = float(terms.sum())
    return FeatureDrift(feature, baseline.kind, len(values), psi, psi_band(psi), bins)


def feature_drift(
    current: Mapping[str, Any], baselines: Mapping[str, Any]
) -> tuple[FeatureDrift, ...]:
    """PSI for every feature that has a baseline; pass the score as one more column."""
    return tuple(
        population_stability_index(name, current[name], baselines[name])
        for name in baselines
        if name in current
    )


@dataclass(frozen=True)
class RateChange(Serialisable):
    group: str  # "overall" or a group label such as "sex=F"
    n: int
    baseline_rate: float | None
    current_rate: float
    absolute_change: float | None  # current - baseline, as a fraction (0.05 = 5 points)
    relative_change: float | None  # absolute / baseline; None when the baseline is 0


def rate_change(group: str, n: int, selected: int, baseline: float | None) -> RateChange:
    rate = selected / n
    change = None if baseline is None else rate - baseline
    relative = change / baseline if change is not None and baseline else None
    return RateChange(group, n, baseline, rate, change, relative)


@dataclass(frozen=True)
class ApprovalRateDrift(Serialisable):
    overall: RateChange
    groups: tuple[RateChange, ...]


def approval_rate_drift(
    y_pred,
    baseline_rate: float,
    sensitive_features: Mapping[str, Any] | None = None,
    baseline_group_rates: Mapping[str, float] | None = None,
) -> ApprovalRateDrift:
    """Selection rate now against the baseline, overall and per group ("sex=F" labels)."""
    y_pred = np.asarray(y_pred)
    overall = rate_change("overall", len(y_pred), int((y_pred == 1).sum()), baseline_rate)
    groups = []
    for name, values in (sensitive_features or {}).items():
        labels, codes = encode_groups(values)
        n = np.bincount(codes, minlength=len(labels))
        selected = np.bincount(codes, weights=y_pred == 1, minlength=len(labels))
        for label, count, chosen in zip(labels, n, selected, strict=True):
            key = f"{name}={label}"
            baseline = (baseline_group_rates or {}).get(key)
            groups.append(rate_change(key, int(count), int(chosen), baseline))
    return ApprovalRateDrift(overall, tuple(groups))


@dataclass(frozen=True)
class ReliabilityBin(Serialisable):
    lower: float
    upper: float
    count: int
    mean_predicted: float  # NaN (None in to_dict) for an empty bin
    observed_rate: float


@dataclass(frozen=True)
class MetricChange(Serialisable):
    metric: str
    reference: float
    current: float | None
    drop_points: float | None  # how much worse than the reference, in points (x100)


def _degradation(metric: str, reference: float, current: float | None) -> MetricChange:
    if current is None:
        return MetricChange(metric, reference, None, None)
    worse = current - reference if metric in LOWER_IS_BETTER else reference - current
    return MetricChange(metric, reference, current, worse * 100)


@dataclass(frozen=True)
class PerformanceReport(Serialisable):
    n_predictions: int
    n_with_outcome: int
    accuracy: float | None
    roc_auc: float | None
    expected_calibration_error: float | None
    reliability: tuple[ReliabilityBin, ...]
    degradation: tuple[MetricChange, ...]


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float | None:
    """Mann-Whitney form of ROC AUC with tied scores at half credit (= sklearn's)."""
    positives = y_true == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if not n_pos or not n_neg:
        return None
    rank_sum = rankdata(y_score)[positives].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def reliability_table(y_true, y_prob, n_bins: int = 10) -> tuple[ReliabilityBin, ...]:
    """Equal-width bins over [0, 1], right-closed like ``sklearn.calibration_curve``."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], y_prob)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore"):  # 0 / 0: an empty bin is NaN
        predicted = np.bincount(bins, weights=y_prob, minlength=n_bins) / count
        observed = np.bincount(bins, weights=y_true, minlength=n_bins) / count
    return tuple(
        ReliabilityBin(float(lo), float(hi), int(c), float(p), float(o))
        for lo, hi, c, p, o in zip(edges[:-1], edges[1:], count, predicted, observed, strict=True)
    )


def performance(
    y_true,
    y_score,
    *,
    y_pred=None,
    threshold: float = 0.5,
    n_bins: int = 10,
    reference: Mapping[str, float] | None = None,
) -> PerformanceReport:
    """Accuracy, ROC AUC and calibration over rows whose outcome has arrived (y_true not NaN).

    ``reference`` holds the version's validation metrics, e.g. ``{"accuracy": 0.91}``; the
    calibration figures need ``y_score`` to be a probability in [0, 1], else they are None.
    """
    y_true, y_score = np.asarray(y_true, dtype=np.float64), np.asarray(y_score, dtype=np.float64)
    y_pred = (y_score >= threshold) if y_pred is None else np.asarray(y_pred)
    arrived = ~np.isnan(y_true)
    y_true, y_score, y_pred = y_true[arrived], y_score[arrived], y_pred[arrived]
    if not np.isin(y_true, (0, 1)).all():
        raise ValueError("y_true must be 0, 1, or NaN for an outcome that has not arrived")
    n = len(y_true)
    accuracy = float((y_pred == y_true).mean()) if n else None
    auc = roc_auc(y_true, y_score) if n else None
    table, ece = (), None
    if n and y_score.min() >= 0 and y_score.max() <= 1:
        table = reliability_table(y_true, y_score, n_bins)
        ece = float(
            sum(b.count / n * abs(b.observed_rate - b.mean_predicted) for b in table if b.count)
        )
    current = {"accuracy": accuracy, "roc_auc": auc, "expected_calibration_error": ece}
    degradation = tuple(
        _degradation(name, ref, current[name])
        for name, ref in (reference or {}).items()
        if name in current
    )
    return PerformanceReport(len(arrived), n, accuracy, auc, ece, table, degradation)
