"""The explainers, reason codes and importance as pure functions, on real models."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import shap
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, QuantileTransformer, StandardScaler

from compliance import demo, explain
from tests.compliance.explain_support import FEATURES, LABELS, by_hand


@pytest.fixture(scope="module")
def data(trained):
    return trained.train[FEATURES], trained.train["repaid"], trained.test[FEATURES]


@pytest.fixture(scope="module")
def background(trained):
    return trained.train[FEATURES].sample(100, random_state=0).to_numpy(float)


def test_the_demo_pipeline_is_explained_by_the_linear_explainer_in_log_odds(trained, background):
    explainer = explain.build_explainer(trained.pipeline, FEATURES, background)
    assert explainer.method == "shap.LinearExplainer"
    assert explainer.output_space == "log_odds"
    assert (explainer.negative_class, explainer.positive_class) == (0, 1)


def test_contributions_belong_to_the_raw_inputs_not_to_their_scaled_copies(
    trained,
    background_rows,
):
    matrix = np.array([[row[f] for f in FEATURES] for row in background_rows])
    explainer = explain.build_explainer(trained.pipeline, FEATURES, matrix)
    applicants = trained.test[FEATURES].head(50)
    done = explainer.explain(applicants.to_numpy(float))
    for i, inputs in enumerate(applicants.to_dict("records")):
        expected, base = by_hand(trained, background_rows, inputs)
        assert done.values[i] == pytest.approx([expected[f] for f in FEATURES], abs=1e-12)
        assert done.base_values[i] == pytest.approx(base, abs=1e-12)


def test_they_agree_with_shap_on_the_scaled_features_of_the_final_model(trained, background):
    scaler, classifier = trained.pipeline[0], trained.pipeline[-1]
    reference = shap.LinearExplainer(
        classifier, shap.maskers.Independent(scaler.transform(_frame(background)), 100)
    )
    applicants = trained.test[FEATURES].head(200)
    expected = reference(scaler.transform(applicants)).values
    ours = explain.build_explainer(trained.pipeline, FEATURES, background)
    assert ours.explain(applicants.to_numpy(float)).values == pytest.approx(expected, abs=1e-12)


def test_contributions_and_base_value_add_up_to_the_log_odds(trained, background):
    applicants = trained.test[FEATURES]
    done = explain.build_explainer(trained.pipeline, FEATURES, background).explain(
        applicants.to_numpy(float)
    )
    log_odds = trained.pipeline.decision_function(applicants)
    assert done.outputs == pytest.approx(log_odds, abs=1e-12)
    assert done.base_values + done.values.sum(axis=1) == pytest.approx(log_odds, abs=1e-9)
    assert done.additive.all()
    assert done.additivity_errors.max() < 1e-9


def test_affine_preprocessing_such_as_pca_is_folded_into_the_linear_model(data, background):
    X, y, test = data
    model = make_pipeline(StandardScaler(), PCA(4), LogisticRegression()).fit(X, y)
    explainer = explain.build_explainer(model, FEATURES, background)
    done = explainer.explain(test.to_numpy(float))
    assert explainer.method == "shap.LinearExplainer"
    assert done.values.shape == (len(test), 6)  # six raw features, not four components
    assert done.additive.all()


def test_a_forest_behind_a_columnwise_transform_is_explained_per_raw_feature(data, background):
    X, y, test = data
    forest = RandomForestClassifier(30, max_depth=5, random_state=0)
    model = make_pipeline(QuantileTransformer(n_quantiles=100), forest).fit(X, y)
    explainer = explain.build_explainer(model, FEATURES, background)
    done = explainer.explain(test.head(300).to_numpy(float))
    assert (explainer.method, explainer.output_space) == ("shap.TreeExplainer", "probability")
    assert done.outputs == pytest.approx(model.predict_proba(test.head(300))[:, 1])
    assert done.additive.all()


def test_a_model_with_no_fast_path_gets_exact_shapley_values(data, background):
    X, y, test = data
    model = make_pipeline(
        StandardScaler(), PolynomialFeatures(2), LogisticRegression(max_iter=2000)
    ).fit(X, y)
    small = background[:10]
    explainer = explain.build_explainer(model, FEATURES, small)
    row = test.head(1).to_numpy(float)
    done = explainer.explain(row)
    assert explainer.method == "shap.ExactExplainer"
    assert done.values[0] == pytest.approx(_shapley_by_enumeration(explainer, row[0], small))
    assert done.additive.all()


def _shapley_by_enumeration(explainer, x, background) -> list[float]:
    """Interventional Shapley values from their definition: for every coalition S, the mean
    model output over background rows with the features in S set to x's."""
    m = len(x)

    def value(coalition) -> float:
        rows = background.copy()
        rows[:, list(coalition)] = x[list(coalition)]
        return float(explainer.output(rows).mean())

    phi = []
    for j in range(m):
        others = [i for i in range(m) if i != j]
        total = 0.0
        for size in range(m):
            weight = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
            for coalition in itertools.combinations(others, size):
                total += weight * (value((*coalition, j)) - value(coalition))
        phi.append(total)
    return phi


def test_a_multiclass_model_is_not_explained(data, background):
    X, y, _ = data
    three = (X["delinquencies"].clip(upper=2)).astype(int)
    model = LogisticRegression(max_iter=500).fit(X, three)
    with pytest.raises(explain.NotExplainable, match="binary classifiers"):
        explain.build_explainer(model, FEATURES, background)


def test_inputs_that_are_missing_or_not_numbers_are_named():
    rows = [
        {"a": 1.0, "b": 2},
        {"a": 1.0},
        {"a": "high", "b": 1},
        {"a": True, "b": 1},
    ]
    X, problems = explain.input_matrix(rows, ["a", "b"])
    assert X[0].tolist() == [1.0, 2.0]
    assert problems == [
        None,
        "input 'b' is missing",
        "input 'a' is not a number",
        "input 'a' is not a number",
    ]


def test_a_background_is_read_off_the_training_deciles_of_the_baselines(trained):
    rows = explain.background_from_baselines(demo.baselines(trained)["features"], FEATURES)
    assert rows.shape == (10, 6)
    training = trained.train[FEATURES]
    continuous = [j for j, f in enumerate(FEATURES) if f != "delinquencies"]  # not a count
    middle = (rows[4] + rows[5]) / 2
    assert middle[continuous] == pytest.approx(training.median().to_numpy()[continuous], rel=0.1)
    assert (np.diff(rows, axis=0) >= 0).all()  # quantiles rise
    assert (rows >= training.min().to_numpy()).all() and (rows <= training.max().to_numpy()).all()
    with pytest.raises(explain.NotExplainable, match="income"):
        explain.background_from_baselines({}, FEATURES)


# ---------------------------------------------------------------------------- reason codes


def test_reason_codes_are_the_largest_unfavourable_contributions_in_schema_words():
    contributions = {
        "income": 0.8,
        "debt_to_income": -1.2,
        "delinquencies": -2.5,
        "loan_amount": -0.3,
        "credit_history_years": -0.05,
        "employment_years": 0.0,
    }
    inputs = {"delinquencies": 3, "debt_to_income": 0.92, "loan_amount": 48.5}
    reasons = explain.rank_reasons(contributions, labels=LABELS, values=inputs, k=3)
    assert [r.feature for r in reasons] == ["delinquencies", "debt_to_income", "loan_amount"]
    assert [r.text for r in reasons] == [
        "Number of past delinquencies: 3",
        "Debt-to-income ratio: 0.92",
        "Loan amount (thousands): 48.5",
    ]
    assert [r.rank for r in reasons] == [1, 2, 3]
    assert reasons[0].contribution == -2.5


def test_features_that_helped_or_did_nothing_are_never_reasons():
    reasons = explain.rank_reasons(
        {"income": 0.8, "employment_years": 0.0, "loan_amount": -0.1},
        labels=LABELS,
        values={},
        k=4,
    )
    assert [r.feature for r in reasons] == ["loan_amount"]


def test_when_the_positive_class_is_unfavourable_positive_contributions_are_the_reasons():
    reasons = explain.rank_reasons(
        {"income": -0.8, "delinquencies": 1.5, "loan_amount": 0.2},
        labels=LABELS,
        values={},
        favourable_sign=-1,
    )
    assert [r.feature for r in reasons] == ["delinquencies", "loan_amount"]


def test_a_feature_without_a_title_is_named_in_plain_words():
    reasons = explain.rank_reasons({"months_at_address": -1.0}, labels={}, values={})
    assert reasons[0].label == "Months at address"
    assert reasons[0].text == "Months at address: not given"


def test_labels_come_from_the_titles_of_the_input_schema():
    assert explain.schema_labels(demo.input_schema()) == LABELS


# ---------------------------------------------------------------------------- importance


def test_global_importance_is_mean_absolute_shap_ranked():
    values = np.array([[1.0, -3.0, 0.0], [-1.0, 1.0, 0.0], [2.0, -2.0, 0.0]])
    result = explain.importance(values, ["a", "b", "c"])
    assert [(f.feature, f.rank) for f in result.features] == [("b", 1), ("a", 2), ("c", 3)]
    assert result.by_feature()["b"].mean_abs == pytest.approx(2.0)
    assert result.by_feature()["a"].mean_abs == pytest.approx(4 / 3)
    assert result.by_feature()["a"].share == pytest.approx((4 / 3) / (10 / 3))
    assert result.n == 3


def test_attribution_drift_is_zero_for_the_same_profile_and_measures_a_shift():
    same = explain.importance(np.array([[1.0, 2.0, 3.0]]), ["a", "b", "c"])
    assert explain.attribution_drift(same, same).total_variation == pytest.approx(0.0)
    assert explain.attribution_drift(same, same).rank_correlation == pytest.approx(1.0)

    reference = explain.importance(np.array([[6.0, 3.0, 1.0]]), ["a", "b", "c"])
    current = explain.importance(np.array([[1.0, 3.0, 6.0]]), ["a", "b", "c"])
    drift = explain.attribution_drift(reference, current)
    # shares 0.6/0.3/0.1 -> 0.1/0.3/0.6: half the L1 distance is 0.5
    assert drift.total_variation == pytest.approx(0.5)
    assert drift.max_change.feature in {"a", "c"}
    assert abs(drift.max_change.change) == pytest.approx(0.5)
    assert drift.rank_correlation == pytest.approx(-1.0)


def _frame(matrix):
    import pandas as pd

    return pd.DataFrame(matrix, columns=FEATURES)
