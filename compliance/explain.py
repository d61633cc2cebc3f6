"""SHAP explanations of a model's decisions, reason codes and global importance.

Pure: an estimator, arrays and mappings in, dataclasses out; no Django, no ORM.

Which explainer (``build_explainer``), always over the raw inputs the service logged:

- **Linear** (``shap.LinearExplainer``): a final estimator from ``sklearn.linear_model`` after
  preprocessing that is affine (scalers, PCA, …; checked numerically on the background). The
  pipeline is folded into one linear model of the raw inputs, ``f(x) = x·(A w) + (b·w + c)``
  where ``z = x A + b`` is the preprocessing, so the contributions belong to the features the
  applicant gave, not to their standardised copies. For a linear model with an independent
  masker, contribution j is ``w_j (x_j − mean_j)`` over the background.
- **Tree** (``shap.TreeExplainer``, path-dependent): a tree ensemble after preprocessing that
  works column by column (each output column depends on its own input column only, checked
  numerically), so each column's Shapley value is its raw feature's. The reference population
  is the training data the trees saw (their node covers): exact, and needs no background. (The
  interventional variant of shap 0.51 does not add up for random forests and histogram
  gradient boosting: errors of 0.01 to 0.7 on the credit data, so it is not used.)
- **Model-agnostic** fallback: exact Shapley values (``shap.explainers.Exact``) for up to 12
  features, otherwise ``shap.PermutationExplainer`` with a fixed seed; both over the
  background with an independent masker. Slow, but additive by construction.

The output space of the contributions is stated with each explanation: ``log_odds`` (the
decision function of logistic regression and gradient boosting: contributions add up to the
log-odds of the positive class), ``probability`` (of the positive class, e.g. random forests),
``margin`` (another classifier's decision function) or ``prediction`` (a regressor's output).
Additivity: ``base_value + sum(contributions) == model_output`` within ``tolerance()``.

Only binary classifiers and regressors over numeric features are explained.
"""

from __future__ import annotations

import functools
import importlib.metadata
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_BACKGROUND_ROWS = 1000
MAX_EXACT_FEATURES = 12
LOG_ODDS_ESTIMATORS = {
    "LogisticRegression",
    "LogisticRegressionCV",
    "GradientBoostingClassifier",
    "HistGradientBoostingClassifier",
}
# Column-wise transforms a tree explanation can see through (checked numerically as well).
TREE_MODULES = ("sklearn.tree", "sklearn.ensemble")


class NotExplainable(ValueError):
    """The model (or these inputs) cannot be explained; the message says why."""


def shap_version() -> str:
    return importlib.metadata.version("shap")


TOLERANCE = "1e-6 * max(1, |model_output|)"


def tolerance(outputs: np.ndarray) -> np.ndarray:
    """How far contributions + base value may be from the model output: 1e-6, relative to the
    output's size beyond 1 (float64 sums of a few dozen terms are good to ~1e-12)."""
    return 1e-6 * np.maximum(1.0, np.abs(outputs))


@dataclass(frozen=True)
class Explanations:
    """SHAP values of ``n`` rows: ``values[i, j]`` is feature j's contribution to row i."""

    features: tuple[str, ...]
    base_values: np.ndarray  # (n,)
    values: np.ndarray  # (n, m)
    outputs: np.ndarray  # (n,) the model's own output in the explainer's space

    @functools.cached_property
    def additivity_errors(self) -> np.ndarray:
        return np.abs(self.base_values + self.values.sum(axis=1) - self.outputs)

    @functools.cached_property
    def additive(self) -> np.ndarray:
        return self.additivity_errors <= tolerance(self.outputs)


@dataclass
class ModelExplainer:
    """Explains one model over its raw numeric inputs (columns in ``features`` order)."""

    method: str
    output_space: str
    features: tuple[str, ...]
    positive_class: Any = None  # a classifier's classes_[1]: contributions push towards it
    negative_class: Any = None  # its classes_[0]
    _shap: Any = field(default=None, repr=False)
    _output: Any = field(default=None, repr=False)
    _prepare: Any = field(default=None, repr=False)

    def describe(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "library": f"shap {shap_version()}",
            "output_space": self.output_space,
            "positive_class": self.positive_class,
        }

    def explain(self, X: np.ndarray) -> Explanations:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.features):
            raise NotExplainable(f"Expected rows of {len(self.features)} features.")
        if not len(X):
            empty = np.zeros(0)
            return Explanations(self.features, empty, np.zeros((0, X.shape[1])), empty)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # shap's and sklearn's chatter about names, etc.
            explained = self._shap(self._prepare(X))
        values = np.asarray(explained.values, dtype=np.float64)
        base = np.asarray(explained.base_values, dtype=np.float64)
        if values.ndim == 3:  # one slice per class: keep the positive class's
            values = values[:, :, 1]
            base = base[:, 1] if base.ndim == 2 else np.full(len(X), base[1])
        base = np.broadcast_to(base.reshape(-1) if base.ndim else base, (len(X),)).copy()
        outputs = self.output(X)
        return Explanations(self.features, base, values, outputs)

    def output(self, X: np.ndarray) -> np.ndarray:
        """The model's own output in this explainer's space."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(self._output(np.asarray(X, dtype=np.float64)), dtype=np.float64)


# ---------------------------------------------------------------------------- building


def _frame(estimator, features: Sequence[str]):
    """A function turning a float matrix into what ``estimator`` was fitted on."""
    if getattr(estimator, "feature_names_in_", None) is not None:
        import pandas as pd

        columns = list(features)
        return lambda X: pd.DataFrame(X, columns=columns)
    return lambda X: X


def _output_space(final) -> str:
    from sklearn.base import is_classifier, is_regressor

    if is_regressor(final):
        return "prediction"
    if not is_classifier(final):
        raise NotExplainable(f"{type(final).__name__} is neither a classifier nor a regressor.")
    classes = getattr(final, "classes_", None)
    if classes is None or len(classes) != 2:
        raise NotExplainable(
            "Only binary classifiers and regressors are explained "
            f"({type(final).__name__} has {0 if classes is None else len(classes)} classes)."
        )
    name = type(final).__name__
    if name in LOG_ODDS_ESTIMATORS or (
        name == "SGDClassifier" and getattr(final, "loss", "") == "log_loss"
    ):
        return "log_odds"
    if hasattr(final, "predict_proba"):
        return "probability"
    if hasattr(final, "decision_function"):
        return "margin"
    raise NotExplainable(f"{name} has neither predict_proba nor decision_function.")


def _output_function(model, space: str):
    if space in ("log_odds", "margin"):
        return lambda X: model.decision_function(X)
    if space == "probability":
        return lambda X: model.predict_proba(X)[:, 1]
    return lambda X: model.predict(X)


def _split(estimator) -> tuple[Any, Any]:
    """(preprocessing or None, final estimator) of a Pipeline or a bare estimator."""
    steps = getattr(estimator, "steps", None)
    if steps is None:
        return None, estimator
    if len(steps) == 1:
        return None, steps[0][1]
    return estimator[:-1], estimator[-1]


def _dense(values) -> np.ndarray:
    if hasattr(values, "toarray"):
        values = values.toarray()
    return np.asarray(values, dtype=np.float64)


def _affine(pre, to_input, background: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(A, b)`` with ``pre(x) == x A + b`` on the background and on unit probes, or None."""
    m = background.shape[1]
    try:
        b = _dense(pre.transform(to_input(np.zeros((1, m)))))[0]
        A = _dense(pre.transform(to_input(np.eye(m)))) - b
        probe = np.vstack([background, background * 2.0 + 1.0])
        actual = _dense(pre.transform(to_input(probe)))
    except (TypeError, ValueError):
        return None
    expected = probe @ A + b
    scale = max(1.0, float(np.abs(actual).max(initial=0.0)))
    if actual.shape != expected.shape or not np.allclose(actual, expected, atol=1e-9 * scale):
        return None
    return A, b


def _columnwise(pre, to_input, background: np.ndarray) -> bool:
    """Whether each output column of ``pre`` depends on its own input column only."""
    try:
        base = _dense(pre.transform(to_input(background)))
    except (TypeError, ValueError):
        return False
    if base.shape != background.shape:
        return False
    shifted_rows = np.roll(background, 1, axis=0)
    for j in range(background.shape[1]):
        changed = background.copy()
        changed[:, j] = shifted_rows[:, j] + 1.0
        after = _dense(pre.transform(to_input(changed)))
        others = np.delete(np.arange(background.shape[1]), j)
        if not np.allclose(after[:, others], base[:, others]):
            return False
    return True


def build_explainer(estimator, features: Sequence[str], background: np.ndarray) -> ModelExplainer:
    """The SHAP explainer for ``estimator`` (see the module docstring for the choice).

    ``background`` is a small float matrix of reference rows (columns in ``features`` order):
    the population the contributions are relative to.
    """
    import shap

    features = tuple(features)
    background = np.asarray(background, dtype=np.float64)
    if background.ndim != 2 or background.shape[1] != len(features) or not len(background):
        raise NotExplainable(f"The background needs rows of the {len(features)} features.")
    pre, final = _split(estimator)
    space = _output_space(final)
    to_input = _frame(estimator, features)
    classes = getattr(final, "classes_", None)
    negative, positive = np.asarray(classes).tolist() if classes is not None else (None, None)
    whole_output = _output_function(estimator, space)

    def model_output(X):
        return whole_output(to_input(X))

    linear = type(final).__module__.startswith("sklearn.linear_model")
    if linear and hasattr(final, "coef_") and np.asarray(final.coef_).ndim <= 2:
        coef = np.asarray(final.coef_, dtype=np.float64).reshape(-1)
        intercept = float(np.asarray(getattr(final, "intercept_", 0.0)).reshape(-1)[0])
        affine = (np.eye(len(features)), np.zeros(len(features))) if pre is None else None
        if affine is None:
            affine = _affine(pre, to_input, background)
        if affine is not None and affine[0].shape[1] == len(coef):
            A, b = affine
            weights, bias = A @ coef, float(b @ coef + intercept)
            masker = shap.maskers.Independent(background, max_samples=MAX_BACKGROUND_ROWS)
            explainer = shap.LinearExplainer((weights, bias), masker)
            return ModelExplainer(
                method="shap.LinearExplainer",
                output_space=space,
                features=features,
                positive_class=positive,
                negative_class=negative,
                _shap=explainer,
                _output=model_output,
                _prepare=lambda X: X,
            )

    tree = type(final).__module__.startswith(TREE_MODULES)
    if tree and (pre is None or _columnwise(pre, to_input, background)):
        try:
            explainer = shap.TreeExplainer(final, feature_perturbation="tree_path_dependent")
        except Exception:  # shap does not know this ensemble: fall back below
            explainer = None
        if explainer is not None:

            def prepare(X, pre=pre):
                return _dense(pre.transform(to_input(X))) if pre is not None else to_input(X)

            return ModelExplainer(
                method="shap.TreeExplainer",
                output_space=space,
                features=features,
                positive_class=positive,
                negative_class=negative,
                _shap=lambda Z: explainer(Z, check_additivity=False),
                _output=model_output,
                _prepare=prepare,
            )

    masker = shap.maskers.Independent(background, max_samples=MAX_BACKGROUND_ROWS)
    if len(features) <= MAX_EXACT_FEATURES:
        explainer = shap.explainers.Exact(model_output, masker)
        method = "shap.ExactExplainer"
    else:
        explainer = shap.PermutationExplainer(model_output, masker, seed=0)
        method = "shap.PermutationExplainer"
    return ModelExplainer(
        method=method,
        output_space=space,
        features=features,
        positive_class=positive,
        negative_class=negative,
        _shap=lambda X: explainer(X, silent=True),
        _output=model_output,
        _prepare=lambda X: X,
    )


# ---------------------------------------------------------------------------- inputs


def input_matrix(
    inputs: Sequence[Mapping[str, Any]], features: Sequence[str]
) -> tuple[np.ndarray, list[str | None]]:
    """Rows of ``features`` from logged inputs, and per row why it cannot be explained (or
    None): a missing feature, or a value that is not a finite number."""
    X = np.zeros((len(inputs), len(features)))
    problems: list[str | None] = []
    for i, row in enumerate(inputs):
        problem = None
        for j, name in enumerate(features):
            value = row.get(name) if isinstance(row, Mapping) else None
            if isinstance(value, bool) or not isinstance(value, int | float):
                problem = f"input {name!r} is {'missing' if value is None else 'not a number'}"
                break
            if not math.isfinite(value):
                problem = f"input {name!r} is not finite"
                break
            X[i, j] = value
        problems.append(problem)
    return X, problems


def background_from_baselines(
    baselines: Mapping[str, Any], features: Sequence[str], rows: int = 10
) -> np.ndarray:
    """A small reference population from a version's drift baselines: row k holds every
    feature at its training quantile (k + 0.5) / rows, read off the stored decile bins.

    Deterministic and needs no training data; an uploaded sample of training rows is better
    for non-linear models (these rows are comonotone). Raises ``NotExplainable`` when a feature
    has no numeric baseline.
    """
    levels = (np.arange(rows) + 0.5) / rows
    columns = []
    for name in features:
        baseline = (baselines or {}).get(name)
        if not isinstance(baseline, Mapping) or baseline.get("kind") != "numeric":
            raise NotExplainable(f"No numeric training baseline for {name!r}.")
        edges = [e for e in baseline["edges"][1:-1] if e is not None]
        shares = np.asarray(baseline["proportions"], dtype=np.float64)
        if not edges:
            raise NotExplainable(f"The baseline of {name!r} has a single bin.")
        cumulative = np.cumsum(shares)[: len(edges)] / max(shares.sum(), 1e-12)
        columns.append(np.interp(levels, cumulative, np.asarray(edges, dtype=np.float64)))
    return np.column_stack(columns)


# ---------------------------------------------------------------------------- reason codes


@dataclass(frozen=True)
class ReasonCode:
    """One principal reason for a decision: a feature that pushed it towards the unfavourable
    outcome, in the words of the input schema, with the applicant's value."""

    rank: int
    feature: str
    label: str
    value: Any
    contribution: float  # in the explanation's output space, towards the positive class

    @property
    def text(self) -> str:
        return f"{self.label}: {format_value(self.value)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "feature": self.feature,
            "label": self.label,
            "value": self.value,
            "contribution": self.contribution,
            "text": self.text,
        }


def format_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:g}"
    return "not given" if value is None else str(value)


def humanise(name: str) -> str:
    return name.replace("_", " ").strip().capitalize() or name


def rank_reasons(
    contributions: Mapping[str, float],
    *,
    labels: Mapping[str, str],
    values: Mapping[str, Any],
    favourable_sign: int = 1,
    k: int = 4,
) -> list[ReasonCode]:
    """The ``k`` features that pushed hardest towards the unfavourable outcome, strongest
    first (ties by name). ``favourable_sign`` is +1 when a positive contribution favours the
    subject, -1 when the positive class is the unfavourable one. Features that helped, or did
    nothing, are never reasons."""
    against = sorted(
        (favourable_sign * float(v), name)
        for name, v in contributions.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and favourable_sign * v < 0
    )
    return [
        ReasonCode(
            rank=i + 1,
            feature=name,
            label=labels.get(name) or humanise(name),
            value=values.get(name),
            contribution=float(contributions[name]),
        )
        for i, (_, name) in enumerate(against[: max(k, 0)])
    ]


def schema_labels(schema: Mapping[str, Any] | None) -> dict[str, str]:
    """Feature name -> its human-readable ``title`` in a JSON Schema's properties."""
    properties = (schema or {}).get("properties") or {}
    return {
        name: spec["title"]
        for name, spec in properties.items()
        if isinstance(spec, Mapping) and isinstance(spec.get("title"), str) and spec["title"]
    }


# ---------------------------------------------------------------------------- importance


@dataclass(frozen=True)
class FeatureImportance:
    feature: str
    mean_abs: float  # mean |SHAP| over the explanations
    share: float  # of the sum over features (0 when nothing contributes)
    rank: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "mean_abs_shap": self.mean_abs,
            "share": self.share,
            "rank": self.rank,
        }


@dataclass(frozen=True)
class Importance:
    """Global importance: mean |SHAP| per feature over ``n`` explanations, largest first."""

    n: int
    features: tuple[FeatureImportance, ...]

    def by_feature(self) -> dict[str, FeatureImportance]:
        return {f.feature: f for f in self.features}

    def to_dict(self) -> dict[str, Any]:
        return {"explanations": self.n, "features": [f.to_dict() for f in self.features]}


def importance(values: np.ndarray, features: Sequence[str]) -> Importance:
    """Mean |SHAP| per feature of an (n, m) matrix of contributions (NaN: not explained)."""
    values = np.asarray(values, dtype=np.float64).reshape(-1, len(features))
    n = len(values)
    mean_abs = np.nan_to_num(np.nanmean(np.abs(values), axis=0)) if n else np.zeros(len(features))
    total = float(mean_abs.sum())
    order = sorted(range(len(features)), key=lambda j: (-mean_abs[j], features[j]))
    return Importance(
        n,
        tuple(
            FeatureImportance(
                feature=features[j],
                mean_abs=float(mean_abs[j]),
                share=float(mean_abs[j] / total) if total > 0 else 0.0,
                rank=rank + 1,
            )
            for rank, j in enumerate(order)
        ),
    )


@dataclass(frozen=True)
class FeatureShift:
    feature: str
    reference_share: float
    share: float
    change: float  # share - reference share
    reference_rank: int | None
    rank: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "reference_share": self.reference_share,
            "share": self.share,
            "change": self.change,
            "reference_rank": self.reference_rank,
            "rank": self.rank,
        }


@dataclass(frozen=True)
class AttributionDrift:
    """How the model's reliance on its features moved between two windows.

    ``total_variation`` is half the L1 distance between the two importance profiles (shares
    of mean |SHAP|): 0 when the model leans on its features in the same proportions, 1 when on
    entirely different ones. ``rank_correlation`` is Spearman's between the two rankings.
    """

    total_variation: float
    max_change: FeatureShift | None
    rank_correlation: float | None
    features: tuple[FeatureShift, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_variation": self.total_variation,
            "max_share_change": self.max_change.to_dict() if self.max_change else None,
            "rank_correlation": self.rank_correlation,
            "features": [f.to_dict() for f in self.features],
        }


def attribution_drift(reference: Importance, current: Importance) -> AttributionDrift:
    """Feature-attribution drift from ``reference`` to ``current`` (see ``AttributionDrift``)."""
    before, after = reference.by_feature(), current.by_feature()
    names = sorted(set(before) | set(after))
    shifts = []
    for name in names:
        ref, cur = before.get(name), after.get(name)
        ref_share = ref.share if ref else 0.0
        share = cur.share if cur else 0.0
        shifts.append(
            FeatureShift(
                feature=name,
                reference_share=ref_share,
                share=share,
                change=share - ref_share,
                reference_rank=ref.rank if ref else None,
                rank=cur.rank if cur else None,
            )
        )
    shifts.sort(key=lambda s: (-abs(s.change), s.feature))
    total_variation = 0.5 * sum(abs(s.change) for s in shifts)
    common = [s for s in shifts if s.rank is not None and s.reference_rank is not None]
    correlation = None
    if len(common) >= 2:
        from scipy.stats import spearmanr

        rho = spearmanr([s.reference_rank for s in common], [s.rank for s in common]).statistic
        correlation = None if math.isnan(rho) else float(rho)
    return AttributionDrift(
        total_variation=float(total_variation),
        max_change=shifts[0] if shifts else None,
        rank_correlation=correlation,
        features=tuple(shifts),
    )
