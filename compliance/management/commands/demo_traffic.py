"""Log the demo's traffic through the Python client, as the scoring service would.

Production traffic is scored by the approved champion 1.0.0. A share of requests is also
scored in shadow by the retrain 1.1.0 — with the two failures the monitoring should catch: its
inputs come from a drifted population (incomes lower, loans larger) and it approves women at a
higher threshold (a bias). The service first sends the last 30 days of its log (decided before
Attest was there to approve the champion), then scores the last ``--live`` applicants now.
Outcomes arrive two weeks after most production decisions, when those two weeks have passed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from attest_client import AttestClient
from compliance import demo
from compliance.models import ModelVersion

SHADOW = "1.1.0"
OUTCOME_AFTER = dt.timedelta(days=14)


class Command(BaseCommand):
    help = "Score synthetic applicants with the demo models and log them to a running Attest."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--predictions", type=int, default=15000)
        parser.add_argument("--outcome-share", type=float, default=0.6)
        parser.add_argument("--shadow-share", type=float, default=0.5)
        parser.add_argument("--live", type=int, default=100, help="applicants scored now")

    def handle(self, *args, **options) -> None:
        key_file = settings.DATA_DIR / "demo-api-key"
        if not key_file.exists():
            raise CommandError("Run seed_demo first: it writes the service account's key.")
        champion = ModelVersion.objects.get(model__slug="credit-scoring", label="1.0.0")
        shadow = ModelVersion.objects.filter(model__slug="credit-scoring", label=SHADOW).first()
        n = options["predictions"]
        applicants = demo.applicants(n, seed=2026)
        features = list(demo.FEATURES)
        scores = demo.load_pipeline(champion).predict_proba(applicants[features])[:, 1]
        drifted = applicants[features].copy()
        drifted["income"] *= 0.7
        drifted["loan_amount"] *= 1.5
        shadow_scores = demo.load_pipeline(shadow).predict_proba(drifted)[:, 1] if shadow else None
        drifted_rows = drifted.to_numpy()
        now = dt.datetime.now(dt.UTC)
        start = now - dt.timedelta(days=30)
        history = max(n - options["live"], 1)
        rng = np.random.default_rng(11)
        logged = {"predictions": 0, "outcomes": 0}
        with AttestClient(options["url"], key_file.read_text().strip(), batch_size=500) as client:
            for i, row in enumerate(applicants.itertuples(index=False)):
                decided = start + dt.timedelta(seconds=int(i * 30 * 86400 / history))
                if i >= history:
                    decided = dt.datetime.now(dt.UTC)
                sensitive = {"sex": row.sex, "age_band": row.age_band}
                event_id = client.log_prediction(
                    model="credit-scoring",
                    version="1.0.0",
                    inputs={name: float(getattr(row, name)) for name in features},
                    output={"score": round(float(scores[i]), 6), "decision": int(scores[i] >= 0.5)},
                    sensitive=sensitive,
                    context={"environment": "production", "channel": "web"},
                    decided_at=decided,
                )
                logged["predictions"] += 1
                observed = decided + OUTCOME_AFTER
                if rng.random() < options["outcome_share"] and observed <= now:
                    client.log_outcome(
                        event_id=event_id, outcome={"label": int(row.repaid)}, observed_at=observed
                    )
                    logged["outcomes"] += 1
                if shadow_scores is not None and rng.random() < options["shadow_share"]:
                    score = float(shadow_scores[i])
                    threshold = 0.62 if row.sex == "F" else 0.5  # the injected bias
                    client.log_prediction(
                        model="credit-scoring",
                        version=SHADOW,
                        inputs=dict(zip(features, map(float, drifted_rows[i]), strict=True)),
                        output={"score": round(score, 6), "decision": int(score >= threshold)},
                        sensitive=sensitive,
                        context={"environment": "shadow", "channel": "web"},
                        decided_at=decided,
                    )
                    logged["predictions"] += 1
            result = client.flush(timeout=180)
            stats = client.stats
        self.stdout.write(
            f"Logged {logged['predictions']:,} predictions and {logged['outcomes']:,} outcomes "
            f"through the client ({stats.acknowledged:,} acknowledged, "
            f"{stats.rejected} rejected, {stats.dropped} dropped); "
            f"all acknowledged: {bool(result)}"
        )
