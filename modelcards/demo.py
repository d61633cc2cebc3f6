"""Decisions of the demo credit-scoring model, logged in-process: what the documents' tests and
benchmark need (``demo_traffic`` does the same through the client against a live server).

With ``explain=True`` each decision carries its exact linear attribution per feature (SHAP of
a logistic regression, in log-odds), as a model service would log for reason codes.
"""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np

from audit.ingest import ingest_outcomes, ingest_predictions
from compliance import demo
from compliance.models import ModelVersion


def log_decisions(
    version: ModelVersion,
    n: int = 2000,
    *,
    start: dt.datetime,
    days: int = 30,
    outcome_share: float = 0.6,
    explain: bool = False,
    seed: int = 2026,
    batch: int = 1000,
) -> list[str]:
    """Score ``n`` synthetic applicants with the version's artifact and log them (and, for a
    share of them, their outcome three weeks later). Returns the event ids, in order."""
    pipeline = demo.load_pipeline(version)
    applicants = demo.applicants(n, seed=seed)
    features = applicants[list(demo.FEATURES)]
    scores = pipeline.predict_proba(features)[:, 1]
    contributions = None
    if explain:
        scaled = pipeline[:-1].transform(features)
        coef = pipeline[-1].coef_[0]
        contributions = (scaled - scaled.mean(axis=0)) * coef
    rng = np.random.default_rng(seed)
    predictions, outcomes, ids = [], [], []
    for i, row in enumerate(applicants.itertuples(index=False)):
        decided = start + dt.timedelta(seconds=int(i * days * 86400 / n))
        event_id = str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | i, version=4))
        ids.append(event_id)
        item = {
            "event_id": event_id,
            "model": version.model.slug,
            "version": version.label,
            "decided_at": decided.isoformat().replace("+00:00", "Z"),
            "inputs": {name: float(getattr(row, name)) for name in demo.FEATURES},
            "output": {"score": round(float(scores[i]), 6), "decision": int(scores[i] >= 0.5)},
            "sensitive": {"sex": row.sex, "age_band": row.age_band},
            "context": {"environment": "production", "channel": "web"},
        }
        if contributions is not None:
            item["explanation"] = {
                name: round(float(c), 6)
                for name, c in zip(demo.FEATURES, contributions[i], strict=True)
            }
        predictions.append(item)
        if rng.random() < outcome_share:
            observed = decided + dt.timedelta(days=21)
            outcomes.append(
                {
                    "outcome_id": str(
                        uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | i, version=4)
                    ),
                    "event_id": event_id,
                    "outcome": {"label": int(row.repaid)},
                    "observed_at": observed.isoformat().replace("+00:00", "Z"),
                }
            )
    for first in range(0, len(predictions), batch):
        ingest_predictions(predictions[first : first + batch])
    for first in range(0, len(outcomes), batch):
        ingest_outcomes(outcomes[first : first + batch])
    return ids
