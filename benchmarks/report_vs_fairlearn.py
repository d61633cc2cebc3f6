"""A fairness report over 1,000,000 logged predictions, end to end from PostgreSQL, against
fairlearn's MetricFrame on the same arrays (issue 5's benchmark).

    DATABASE_URL is not used; the script makes its own database on the local PostgreSQL:
    .venv/bin/python benchmarks/report_vs_fairlearn.py [--rows 1000000] [--runs 3]

It creates ``attest_bench_reports``, migrates it, writes the predictions, their sensitive
attributes (sex, age_band, region) and 70% of the outcomes with SQL, then times:

* Attest: ``compliance.reports.compute(..., checks=("fairness",))`` — the GROUP BY cube in
  PostgreSQL and the per-group metrics, disparities, four-fifths check and 1,000 bootstrap
  resamples for every attribute and pair of attributes;
* fairlearn: one ``MetricFrame`` per attribute over the same rows (read from the database
  once, untimed), with the same six metrics, plus its disparity functions.

and checks the two agree to 1e-9 before printing both timings side by side.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB = "attest_bench_reports"
URL = f"postgres://postgres@127.0.0.1:5432/{DB}"


def prepare(rows: int) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB}")
        c.execute(f"CREATE DATABASE {DB}")
    env = {**os.environ, "DATABASE_URL": URL}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def generate(rows: int):
    """The model, its version and ``rows`` predictions with attributes and outcomes."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.db import connection

    from compliance.models import AIModel, ModelVersion

    user = get_user_model().objects.create(username="bench")
    model = AIModel.objects.create(
        name="Bench", slug="bench", eu_ai_act_category="minimal", risk_tier=2,
        sensitive_attributes=["sex", "age_band", "region"],
    )  # fmt: skip
    version = ModelVersion.objects.create(
        model=model, label="1", artifact_uri="x", artifact_sha256="a" * 64,
        training_data_uri="x", training_data_sha256="b" * 64, training_row_count=1,
        training_date_from=dt.date(2025, 1, 1), training_date_to=dt.date(2025, 1, 2),
        feature_pipeline_version="1", input_schema={"type": "object"}, code_commit="x",
        created_by=user,
    )  # fmt: skip
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE gen AS
            SELECT i,
                   (ARRAY['F','M'])[1 + (random() < 0.5)::int] AS sex,
                   (ARRAY['18-24','25-39','40-59','60+'])[1 + floor(random() * 4)::int] AS age,
                   (ARRAY['north','south','east'])[1 + floor(random() * 3)::int] AS region,
                   random() AS u, random() AS t, random() < 0.7 AS known
            FROM generate_series(1, %s) AS i
            """,
            [rows],
        )
        cursor.execute(
            """
            INSERT INTO audit_ledgerentry (kind, received_at, canonical, leaf_hash)
            SELECT 'prediction', now(), convert_to(i::text, 'UTF8'),
                   sha256('\\x00'::bytea || convert_to(i::text, 'UTF8'))
            FROM gen ORDER BY i
            """
        )
        cursor.execute("SELECT min(id) FROM audit_ledgerentry WHERE kind = 'prediction'")
        first = cursor.fetchone()[0]
        # Selection depends on the group (a biased model), truth on the score.
        cursor.execute(
            """
            INSERT INTO audit_predictionrecord (entry_id, event_id, version_id, decided_at,
                received_at, environment, score, favourable, schema_violation,
                unapproved_version, content_sha256)
            SELECT %s + i - 1, gen_random_uuid(), %s, now() - (i %% 518400) * interval '1 second',
                   now(), 'production', u,
                   u < CASE WHEN sex = 'F' THEN 0.45 ELSE 0.6 END - CASE WHEN age = '60+'
                       THEN 0.1 ELSE 0 END,
                   false, false, ''
            FROM gen ORDER BY i
            """,
            [first, version.pk],
        )
        cursor.execute(
            """
            INSERT INTO audit_sensitiveattributes (prediction_id, "values", salt)
            SELECT p.id, jsonb_build_object('sex', sex, 'age_band', age, 'region', region), ''
            FROM gen JOIN audit_predictionrecord p ON p.entry_id = %s + i - 1
            """,
            [first],
        )
        cursor.execute(
            """
            INSERT INTO audit_ledgerentry (kind, received_at, canonical, leaf_hash)
            SELECT 'outcome', now(), convert_to('o' || i::text, 'UTF8'),
                   sha256('\\x00'::bytea || convert_to('o' || i::text, 'UTF8'))
            FROM gen WHERE known ORDER BY i
            """
        )
        cursor.execute("SELECT min(id) FROM audit_ledgerentry WHERE kind = 'outcome'")
        first_outcome = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO audit_outcomerecord (entry_id, outcome_id, prediction_id, label,
                observed_at, received_at, content_sha256)
            SELECT %s + row_number() OVER (ORDER BY i) - 1, gen_random_uuid(), p.id,
                   to_jsonb((t < 0.3 + 0.6 * u)::int), now(), now(), ''
            FROM gen JOIN audit_predictionrecord p ON p.entry_id = %s + i - 1
            WHERE known
            """,
            [first_outcome, first],
        )
        cursor.execute("ANALYZE")
    print(f"wrote {rows:,} predictions with attributes and outcomes in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    return version


def arrays(version):
    """The same rows as arrays, for fairlearn (read once, not timed)."""
    import numpy as np
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.favourable, o.label::text, s."values"->>'sex', s."values"->>'age_band',
                   s."values"->>'region'
            FROM audit_predictionrecord p
            JOIN audit_sensitiveattributes s ON s.prediction_id = p.id
            JOIN audit_outcomerecord o ON o.prediction_id = p.id
            WHERE p.version_id = %s
            """,
            [version.pk],
        )
        rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True))
    y_pred = np.array(columns[0], dtype=int)
    y_true = np.array([v == "1" for v in columns[1]], dtype=int)
    sensitive = {name: np.array(columns[i]) for i, name in
                 ((2, "sex"), (3, "age_band"), (4, "region"))}  # fmt: skip
    return y_true, y_pred, sensitive


def run_fairlearn(y_true, y_pred, sensitive):
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        equalized_odds_difference,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    metrics = {
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
        "false_negative_rate": false_negative_rate,
        "precision": precision_score,
        "accuracy": accuracy_score,
    }
    out = {}
    for name, values in sensitive.items():
        frame = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred,
                            sensitive_features=values)  # fmt: skip
        out[name] = {
            "by_group": frame.by_group,
            "dpd": demographic_parity_difference(y_true, y_pred, sensitive_features=values),
            "eod": equalized_odds_difference(y_true, y_pred, sensitive_features=values),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of Attest")
    parser.add_argument("--fairlearn-runs", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="reuse the database if it exists")
    args = parser.parse_args()
    if not args.keep:
        prepare(args.rows)
    setup_django()
    import datetime as dt

    from django.utils import timezone

    from compliance.models import ModelVersion
    from compliance.reports import compute

    version = ModelVersion.objects.filter(label="1").first() if args.keep else None
    version = version or generate(args.rows)
    end = timezone.now() + dt.timedelta(minutes=1)
    start = end - dt.timedelta(days=8)

    ours, results = [], None
    for _ in range(args.runs):
        began = time.perf_counter()
        results = compute(version, start, end, checks=("fairness",), n_bootstrap=1000)
        ours.append(time.perf_counter() - began)
    y_true, y_pred, sensitive = arrays(version)
    theirs, frames = [], None
    for _ in range(args.fairlearn_runs):
        began = time.perf_counter()
        frames = run_fairlearn(y_true, y_pred, sensitive)
        theirs.append(time.perf_counter() - began)

    worst = 0.0
    known = {a["attribute"]: a for a in results.fairness_with_outcomes["attributes"]}
    for name, frame in frames.items():
        groups = {g["label"]: g for g in known[name]["groups"]}
        for label, row in frame["by_group"].iterrows():
            ours_row = groups[f"{name}={label}"]
            for metric, value in row.items():
                worst = max(worst, abs((ours_row[metric] or 0.0) - value))
        disparity = known[name]["disparity"]
        worst = max(worst, abs(disparity["equalized_odds_difference"] - frame["eod"]))
        worst = max(worst, abs(disparity["demographic_parity_difference"] - frame["dpd"]))
    print(f"\n{results.counts['predictions']:,} predictions, "
          f"{results.counts['with_outcomes']:,} with outcomes, 3 sensitive attributes")  # fmt: skip
    print(f"largest difference from fairlearn: {worst:.1e} (must be < 1e-9)")
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    print(f"\n{'':48}{'median s':>10}{'speed-up':>10}")
    print(f"{'fairlearn MetricFrame (arrays in memory)':48}{theirs_s:>10.3f}{1:>9.1f}x")
    print(f"{'Attest report from PostgreSQL (+1000 bootstrap,':48}")
    print(f"{'  intersections, selection and error rates)':48}{ours_s:>10.3f}"
          f"{theirs_s / ours_s:>9.1f}x")  # fmt: skip
    print(f"\nAttest runs: {', '.join(f'{t:.3f}' for t in ours)} s; target >= 20x: "
          f"{'met' if theirs_s / ours_s >= 20 and worst < 1e-9 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
