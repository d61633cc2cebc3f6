"""Log the demo's predictions and outcomes through the Python client, as a model service would."""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from attest_client import AttestClient
from compliance import demo
from compliance.models import ModelVersion


class Command(BaseCommand):
    help = "Score synthetic applicants with the demo model and log them to a running Attest."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--predictions", type=int, default=5000)
        parser.add_argument("--outcome-share", type=float, default=0.6)

    def handle(self, *args, **options) -> None:
        key_file = settings.DATA_DIR / "demo-api-key"
        if not key_file.exists():
            raise CommandError("Run seed_demo first: it writes the service account's key.")
        version = ModelVersion.objects.get(model__slug="credit-scoring", label="1.0.0")
        pipeline = demo.load_pipeline(version)
        n = options["predictions"]
        applicants = demo.applicants(n, seed=2026)
        scores = pipeline.predict_proba(applicants[list(demo.FEATURES)])[:, 1]
        start = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
        rng = np.random.default_rng(11)
        with AttestClient(options["url"], key_file.read_text().strip(), batch_size=500) as client:
            for i, row in enumerate(applicants.itertuples(index=False)):
                decided = start + dt.timedelta(seconds=int(i * 30 * 86400 / n))
                event_id = client.log_prediction(
                    model="credit-scoring",
                    version="1.0.0",
                    inputs={name: float(getattr(row, name)) for name in demo.FEATURES},
                    output={"score": round(float(scores[i]), 6), "decision": int(scores[i] >= 0.5)},
                    sensitive={"sex": row.sex, "age_band": row.age_band},
                    context={"environment": "production", "channel": "web"},
                    decided_at=decided,
                )
                if rng.random() < options["outcome_share"]:
                    client.log_outcome(
                        event_id=event_id,
                        outcome={"label": int(row.repaid)},
                        observed_at=decided + dt.timedelta(days=21),
                    )
            result = client.flush(timeout=120)
            stats = client.stats
        self.stdout.write(
            f"Logged {stats.acknowledged} items through the client "
            f"({stats.rejected} rejected, {stats.dropped} dropped); flush ok: {bool(result)}"
        )
