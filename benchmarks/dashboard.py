"""Time of the risk officer's dashboard (``GET /admin/``) and of a model's page with millions
of predictions in the ledger.

Makes its own PostgreSQL database (``attest_bench_dashboard``, kept and reused; ``--rebuild``
to start again), migrates it, seeds the demo, and adds ``--predictions`` (3,000,000) of the
demo versions over the last 90 days with ``INSERT ... SELECT generate_series`` (small payloads:
the dashboard never reads them). They are not put into the Merkle tree; the sequencer's
watermark is moved past them, as if sealed, and ``PredictionVolume.rebuild()`` counts them
(timed: it is what ``manage.py rollup_prediction_volume`` does). Then, logged in as the risk
officer through Django's test client (the whole request: middleware, queries, templates):

- the dashboard ``--runs`` times after two warm-up requests: median and slowest;
- for comparison, the same per-day counts straight from the ledger (GROUP BY over the last 30
  days of predictions), which is what the rollup saves on every page load;
- the credit model's page (timeline, evidence coverage, scorecard).

    .venv/bin/python benchmarks/dashboard.py [--predictions 3000000] [--runs 20] [--rebuild]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--predictions", type=int, default=3_000_000)
parser.add_argument("--runs", type=int, default=20)
parser.add_argument("--rebuild", action="store_true")
parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
parser.add_argument("--db", default="attest_bench_dashboard")
args = parser.parse_args()

with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as admin:
    if args.rebuild:
        admin.execute(f'DROP DATABASE IF EXISTS "{args.db}"')
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db]).fetchone()
    if not exists:
        admin.execute(f'CREATE DATABASE "{args.db}"')

os.environ.update(DATABASE_URL=f"{args.pg_url}/{args.db}", DEBUG="true", ALLOWED_HOSTS="testserver")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from audit.models import PredictionRecord, SequencerState  # noqa: E402
from compliance.models import AIModel, ModelVersion, PredictionVolume  # noqa: E402

print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (others' work counts)")
call_command("migrate", verbosity=0)
if not AIModel.objects.filter(slug="credit-scoring").exists():
    call_command("seed_demo", stdout=open(os.devnull, "w"))

versions = list(
    ModelVersion.objects.filter(model__slug="credit-scoring").values_list("pk", flat=True)
)
have = PredictionRecord.objects.count()
missing = args.predictions - have
if missing > 0:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM audit_ledgerentry")
        (before,) = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO audit_ledgerentry (kind, received_at, canonical, leaf_hash)
            SELECT 'prediction', now(), convert_to('{"bench":' || g || '}', 'UTF8'),
                   sha256(convert_to('{"bench":' || g || '}', 'UTF8'))
            FROM generate_series(1, %s) AS g
            """,
            [missing],
        )
        cursor.execute(
            """
            INSERT INTO audit_predictionrecord (entry_id, event_id, version_id, decided_at,
                received_at, environment, score, favourable, schema_violation,
                unapproved_version, content_sha256)
            SELECT id, gen_random_uuid(), (%s::bigint[])[1 + id %% %s],
                   now() - (id %% 90) * interval '1 day' - (id %% 86400) * interval '1 second',
                   now(), CASE WHEN id %% 5 = 0 THEN 'shadow' ELSE 'production' END,
                   (id %% 1000) / 1000.0, id %% 3 <> 0, false, false,
                   encode(sha256(int8send(id)), 'hex')
            FROM audit_ledgerentry WHERE id > %s
            """,
            [versions, len(versions), before],
        )
        cursor.execute("SELECT max(id) FROM audit_ledgerentry")
        (last,) = cursor.fetchone()
    SequencerState.objects.update_or_create(pk=1, defaults={"watermark_id": last})
    print(f"added {missing:,} predictions in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    started = time.perf_counter()
    rows = PredictionVolume.rebuild()
    print(f"PredictionVolume.rebuild(): {rows} rows in {time.perf_counter() - started:.1f} s")

total = PredictionRecord.objects.count()
print(f"{total:,} predictions in the ledger; {PredictionVolume.objects.count()} rollup rows")

client = Client()
client.force_login(get_user_model().objects.get(username="rita"))


def timed(path: str, runs: int) -> list[float]:
    for _ in range(2):
        assert client.get(path).status_code == 200
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    return times


def report(name: str, times: list[float]) -> None:
    print(
        f"{name}: median {statistics.median(times) * 1000:.0f} ms, "
        f"slowest {max(times) * 1000:.0f} ms over {len(times)} requests"
    )


report("dashboard GET /admin/", timed("/admin/", args.runs))

since = timezone.now() - dt.timedelta(days=30)
started = time.perf_counter()
PredictionVolume._per_day(PredictionRecord.objects.filter(decided_at__gte=since))
print(
    f"the same per-day counts from the ledger instead (GROUP BY over 30 days): "
    f"{(time.perf_counter() - started) * 1000:.0f} ms per page load"
)

model = AIModel.objects.get(slug="credit-scoring")
report("model page", timed(f"/admin/compliance/aimodel/{model.pk}/overview/", 3))
