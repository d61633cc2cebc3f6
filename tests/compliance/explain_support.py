"""A real credit model for the explanation tests: the demo's scikit-learn pipeline (scaler and
logistic regression), trained once per session, saved with skops, registered as a version
whose bundle pins the file's SHA-256.

Test modules import the fixtures they use from here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import uuid

import numpy as np
import pytest
import skops.io as sio

from compliance import demo
from compliance.models import ModelVersion
from tests.conftest import bundle

FEATURES = list(demo.FEATURES)
LABELS = {name: label for name, (label, _, _) in demo.FEATURES.items()}


@pytest.fixture(scope="session")
def trained() -> demo.TrainedModel:
    return demo.train(4000, seed=7)


@pytest.fixture(scope="session")
def skops_file(trained) -> bytes:
    return sio.dumps(trained.pipeline)


@pytest.fixture(scope="session")
def background_rows(trained) -> list[dict]:
    return trained.train[FEATURES].sample(100, random_state=0).to_dict("records")


def register(ai_model, developer, data: bytes, trained, label: str = "1.0.0") -> ModelVersion:
    fields = bundle(
        label=label,
        artifact_sha256=hashlib.sha256(data).hexdigest(),
        input_schema=demo.input_schema(),
        baselines=demo.baselines(trained),
    )
    fields["training_date_from"] = dt.date(2024, 1, 1)
    fields["training_date_to"] = dt.date(2025, 12, 31)
    return ModelVersion.objects.create(model=ai_model, created_by=developer, **fields)


@pytest.fixture
def credit_version(ai_model, developer, skops_file, trained) -> ModelVersion:
    """Version 1.0.0 of credit-scoring whose bundle pins the demo pipeline's skops file."""
    return register(ai_model, developer, skops_file, trained)


@pytest.fixture
def uploaded(credit_version, developer, skops_file, background_rows):
    """The version's artifact, uploaded by its developer with 100 training rows."""
    from compliance.artifacts import store_artifact

    artifact, _ = store_artifact(
        credit_version, skops_file, actor=developer, background=background_rows
    )
    return artifact


def applications(trained, n: int, seed: int = 2026, **overrides) -> list[dict]:
    """``n`` predictions of the demo model as a service logs them: real inputs, the pipeline's
    score and decision, no explanation."""
    people = demo.applicants(n, seed=seed)
    scores = trained.pipeline.predict_proba(people[FEATURES])[:, 1]
    items = []
    for i, row in enumerate(people.to_dict("records")):
        item = {
            "event_id": str(uuid.uuid4()),
            "model": "credit-scoring",
            "version": "1.0.0",
            "decided_at": f"2026-11-{10 + i % 10:02d}T10:00:00Z",
            "inputs": {name: float(row[name]) for name in FEATURES},
            "output": {"score": float(scores[i]), "decision": int(scores[i] >= 0.5)},
            "sensitive": {"sex": row["sex"], "age_band": row["age_band"]},
            "context": {"environment": "production"},
        }
        item.update(overrides)
        items.append(item)
    return items


def by_hand(trained, background_rows, inputs: dict) -> tuple[dict[str, float], float]:
    """SHAP values of a logistic regression behind a standard scaler, computed by hand in the
    raw inputs: w_j / s_j * (x_j - mean of the background's x_j), base w·z(mean) + b (log-odds).
    """
    scaler, classifier = trained.pipeline[0], trained.pipeline[-1]
    weights = classifier.coef_[0] / scaler.scale_
    mean = np.array([[row[f] for f in FEATURES] for row in background_rows]).mean(axis=0)
    x = np.array([inputs[f] for f in FEATURES])
    base = float(weights @ (mean - scaler.mean_) + classifier.intercept_[0])
    return dict(zip(FEATURES, (weights * (x - mean)).tolist(), strict=True)), base


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))
