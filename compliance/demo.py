"""The demo's credit-scoring model: synthetic applicants, a scikit-learn model, its bundle.

Everything is generated from a seed, so the demo (and the tests that use it) are reproducible.
The model predicts whether an applicant repays; ``decision`` 1 ("approved") is favourable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from compliance import workflow
from compliance.choices import Conclusion, VersionState
from compliance.drift import training_baseline
from compliance.models import Deployment
from compliance.names import checked

# Feature name -> (human-readable label for reason codes, JSON Schema bounds).
FEATURES: dict[str, tuple[str, float, float]] = {
    "income": ("Annual income (thousands)", 0, 1000),
    "debt_to_income": ("Debt-to-income ratio", 0, 5),
    "credit_history_years": ("Length of credit history (years)", 0, 80),
    "delinquencies": ("Number of past delinquencies", 0, 50),
    "loan_amount": ("Loan amount (thousands)", 0, 2000),
    "employment_years": ("Years in current employment", 0, 60),
}
SENSITIVE = {"sex": ["F", "M"], "age_band": ["18-24", "25-39", "40-59", "60+"]}
TRAINING_FROM = dt.date(2024, 1, 1)
TRAINING_TO = dt.date(2025, 12, 31)


def applicants(n: int, seed: int = 7) -> pd.DataFrame:
    """``n`` synthetic applicants with features, sensitive attributes and the true outcome."""
    rng = np.random.default_rng(seed)
    age_band = rng.choice(SENSITIVE["age_band"], size=n, p=[0.15, 0.4, 0.32, 0.13])
    sex = rng.choice(SENSITIVE["sex"], size=n)
    income = np.clip(rng.lognormal(3.7, 0.45, n), 5, 900)
    df = pd.DataFrame(
        {
            "income": income.round(1),
            "debt_to_income": np.clip(rng.gamma(2.0, 0.18, n), 0, 4.5).round(3),
            "credit_history_years": np.clip(rng.gamma(3.0, 3.2, n), 0, 60).round(1),
            "delinquencies": rng.poisson(0.6, n),
            "loan_amount": np.clip(rng.lognormal(2.8, 0.6, n), 1, 1500).round(1),
            "employment_years": np.clip(rng.gamma(2.0, 3.0, n), 0, 50).round(1),
            "sex": sex,
            "age_band": age_band,
        }
    )
    logit = (
        1.0
        + 0.025 * (df.income - 40)
        - 2.2 * (df.debt_to_income - 0.36)
        + 0.06 * (df.credit_history_years - 9.6)
        - 0.8 * df.delinquencies
        - 0.012 * (df.loan_amount - 20)
        + 0.05 * (df.employment_years - 6)
    )
    df["repaid"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


@dataclass(frozen=True)
class TrainedModel:
    pipeline: Pipeline
    train: pd.DataFrame
    test: pd.DataFrame
    metrics: dict[str, float]


def train(n: int = 20_000, seed: int = 7) -> TrainedModel:
    data = applicants(n, seed)
    train_df, test_df = train_test_split(data, test_size=0.25, random_state=seed)
    pipeline = Pipeline(
        [("scale", StandardScaler()), ("classify", LogisticRegression(C=1.0, max_iter=500))]
    )
    pipeline.fit(train_df[list(FEATURES)], train_df["repaid"])
    scores = pipeline.predict_proba(test_df[list(FEATURES)])[:, 1]
    metrics = {
        "accuracy": round(float(accuracy_score(test_df["repaid"], scores >= 0.5)), 6),
        "roc_auc": round(float(roc_auc_score(test_df["repaid"], scores)), 6),
        "test_rows": len(test_df),
    }
    return TrainedModel(pipeline, train_df, test_df, metrics)


def benchmark(model: TrainedModel, against: str) -> dict[str, Any]:
    """The version against a simple model fitted on the same training rows and scored on the same
    hold-out (scikit-learn): ``"majority"``, the majority class, or ``"tree"``, a depth-3 tree."""
    if against == "majority":
        name, challenger = "a majority-class baseline", DummyClassifier(strategy="most_frequent")
    else:
        name, challenger = (
            "a depth-3 decision tree challenger",
            DecisionTreeClassifier(max_depth=3, random_state=0),
        )
    features = list(FEATURES)
    challenger.fit(model.train[features], model.train["repaid"])
    truth = model.test["repaid"]
    ours = model.pipeline.predict_proba(model.test[features])[:, 1]
    theirs = challenger.predict_proba(model.test[features])[:, 1]
    rows = [
        {
            "metric": "roc_auc",
            "model": round(float(roc_auc_score(truth, ours)), 4),
            "benchmark": round(float(roc_auc_score(truth, theirs)), 4),
        },
        {
            "metric": "accuracy",
            "model": round(float(accuracy_score(truth, ours >= 0.5)), 4),
            "benchmark": round(float(accuracy_score(truth, theirs >= 0.5)), 4),
        },
    ]
    hold_out = f"the bundle's hold-out of {len(model.test):,} applicants (25%, seed-split)"
    return {"against": name, "hold_out": hold_out, "rows": rows}


def reviews(version, model: TrainedModel) -> list[dict[str, Any]]:
    """The two validators' reviews of ``version``: each in their own words, each with its own
    benchmark on the hold-out and the evidence it rests on (the bundle's hashes)."""
    bundle = [
        f"manifest sha256:{version.manifest_sha256}",
        f"artifact sha256:{version.artifact_sha256}",
        f"training data sha256:{version.training_data_sha256}",
    ]
    first, second = benchmark(model, "majority"), benchmark(model, "tree")
    auc, acc = (row["model"] for row in first["rows"])
    return [
        {
            "scope": "Initial validation: data, design, performance and fairness of the bundle.",
            "conceptual_soundness": (
                "Re-fitted the logistic regression from the pinned training data and obtained "
                "the same coefficients; each of the six bureau features moves the score in the "
                "direction credit policy expects, and none is a proxy for sex or age band."
            ),
            "conceptual_soundness_conclusion": Conclusion.SATISFACTORY,
            "ongoing_monitoring": (
                "Checked that the bundle carries training baselines for every feature and the "
                "score, and that the daily schedule compares drift, selection rates by group and "
                "performance against them with thresholds set by the risk officer."
            ),
            "ongoing_monitoring_conclusion": Conclusion.SATISFACTORY,
            "outcomes_analysis": (
                f"On the hold-out the model reaches ROC AUC {auc} and accuracy {acc}, against "
                f"{first['rows'][0]['benchmark']} and {first['rows'][1]['benchmark']} for the "
                "majority-class baseline: the model discriminates well beyond chance."
            ),
            "outcomes_analysis_conclusion": Conclusion.SATISFACTORY,
            "references": {
                "conceptual_soundness": bundle[1:],
                "ongoing_monitoring": [bundle[0], "baselines of the version bundle"],
                "outcomes_analysis": [bundle[0], "evaluation_metrics of the version bundle"],
            },
            "benchmark": first,
            "recommendations": "Report approval rates by age band monthly for the first year.",
        },
        {
            "scope": "Second-line challenge of the first review, with an independent challenger.",
            "conceptual_soundness": (
                "Read the design choices against the data dictionary: the monotone linear form "
                "suits adverse-action reason codes, and a depth-3 tree challenger finds no strong "
                "interaction the linear form misses."
            ),
            "conceptual_soundness_conclusion": Conclusion.SATISFACTORY,
            "ongoing_monitoring": (
                "Verified the process end to end: a decision logged through the API appears in "
                "the signed ledger with its inputs, and a drift breach opens a finding; the "
                "30-day window suits the expected volume."
            ),
            "ongoing_monitoring_conclusion": Conclusion.SATISFACTORY,
            "outcomes_analysis": (
                f"Benchmarked the model against a depth-3 decision tree on the same hold-out: ROC "
                f"AUC {second['rows'][0]['model']} against {second['rows'][0]['benchmark']}, "
                f"accuracy {second['rows'][1]['model']} against {second['rows'][1]['benchmark']}; "
                "the simpler linear model is not worse."
            ),
            "outcomes_analysis_conclusion": Conclusion.SATISFACTORY,
            "references": {
                "conceptual_soundness": [bundle[1], "input schema of the version bundle"],
                "ongoing_monitoring": [bundle[0], "daily monitoring schedule"],
                "outcomes_analysis": bundle[1:],
            },
            "benchmark": second,
            "recommendations": "Revalidate after the first quarter of outcomes has arrived.",
            "sensitivity": (
                "Refitted on five bootstrap resamples of the training rows: hold-out ROC AUC "
                "moved by under 0.01."
            ),
        },
    ]


def input_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Credit application",
        "type": "object",
        "properties": {
            name: {"type": "number", "title": label, "minimum": low, "maximum": high}
            for name, (label, low, high) in FEATURES.items()
        },
        "required": list(FEATURES),
        "additionalProperties": False,
    }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_artifacts(model: TrainedModel, directory: Path, label: str) -> dict[str, Any]:
    """Write the model (skops, never pickle) and its training data; return the bundle fields."""
    directory.mkdir(parents=True, exist_ok=True)
    label = checked(label)  # it names files
    artifact = directory / f"credit-scoring-{label}.skops"
    sio.dump(model.pipeline, artifact)
    data = directory / f"credit-scoring-{label}-training.csv"
    model.train.to_csv(data, index=False)
    return {
        "artifact_uri": artifact.as_uri(),
        "artifact_sha256": sha256_file(artifact),
        "training_data_uri": data.as_uri(),
        "training_data_sha256": sha256_file(data),
        "training_row_count": len(model.train),
        "training_date_from": TRAINING_FROM,
        "training_date_to": TRAINING_TO,
    }


def baselines(model: TrainedModel) -> dict[str, Any]:
    """Monitoring baselines from the training data: what drift and fairness reports compare to."""
    features = model.train[list(FEATURES)]
    scores = model.pipeline.predict_proba(features)[:, 1]
    approved = scores >= 0.5
    by_group = {
        f"{name}={value}": round(float(approved[(model.train[name] == value).to_numpy()].mean()), 6)
        for name, values in SENSITIVE.items()
        for value in values
    }
    return {
        "features": {name: training_baseline(features[name]).to_dict() for name in FEATURES},
        "score": training_baseline(scores).to_dict(),
        "selection_rate": {"overall": round(float(approved.mean()), 6), "by_group": by_group},
    }


def load_pipeline(version) -> Pipeline:
    """Load a version's skops artifact after checking it is the file the bundle pins."""
    path = Path(version.artifact_uri.removeprefix("file://"))
    if sha256_file(path) != version.artifact_sha256:
        raise ValueError(f"{path} does not match the artifact SHA-256 of {version}.")
    # skops refuses any type it does not trust by default; nothing here executes code on load.
    return sio.load(path)


def approve_and_deploy(version, *, developer, validators, officer, reviews) -> None:
    """``version`` through the whole workflow into production, each step only if not yet done:
    submitted by ``developer`` (of the model's team), reviewed (``reviews``, one per validator)
    and approved by each of ``validators`` (two for a high-risk model), deployed by the risk
    ``officer``."""
    if version.state == VersionState.DRAFT:
        version = workflow.submit_version(version, developer, "Ready for validation.")
    if version.state == VersionState.SUBMITTED:
        version = workflow.start_validation(version, validators[0])
    for validator, review in zip(validators, reviews, strict=True):
        decided = version.reviews.filter(
            validator=validator, cycle=version.validation_cycle
        ).exclude(decision="")
        if version.state != VersionState.IN_VALIDATION or decided.exists():
            continue
        workflow.record_review(version, validator, **review)
        version = workflow.approve_version(
            version, validator, "Sound design, stable outcomes, monitoring in place."
        )
    deployed = Deployment.objects.active().filter(version=version, environment="production")
    if version.approval_is_current() and not deployed.exists():
        workflow.deploy_version(version, officer, reason="Demo go-live.")
