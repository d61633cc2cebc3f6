"""Time to generate the SR 11-7 model documentation with charts, and the evidence pack, for the
demo model.

Sets up its own SQLite database in a temporary directory, as ``make demo`` leaves it: migrate,
seed_demo (20,000 training rows; 1.0.0 approved by two validators and deployed, 1.1.0 in
validation), ``--decisions`` logged decisions of the last 30 days (15,000 by default, the demo's
scale), 60% with outcomes, sealed, a daily monitoring schedule and its report over the last 7
days. Then gathers, renders and writes the PDF ``--runs`` times for as many as-of dates (so no
document is reused) and prints the median, with the time of gathering the evidence and of laying
out and writing the PDF, and the first run apart (it pays for the imports a fresh
``manage.py generate_document`` pays). ``--pack`` then times issuing the evidence pack (its four
documents, the ledger and its proofs, the zip) for as many later dates.

    .venv/bin/python benchmarks/documents.py [--decisions 15000] [--runs 5] [--pack] [--profile]

Targets: SR 11-7 under 5 s at 15,000 decisions and under 10 s at 1,000,000; the pack under 20 s
at 15,000. ``--profile`` prints the 30 costliest functions of one more run (cProfile, cumulative).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--decisions", type=int, default=15_000)
parser.add_argument("--runs", type=int, default=5)
parser.add_argument("--pack", action="store_true", help="time the evidence pack too")
parser.add_argument("--profile", action="store_true")
parser.add_argument(
    "--data",
    help="keep the database in this folder; when it is already set up there, time it again "
    "without logging anew (a million decisions take about 20 minutes to log and seal)",
)
args = parser.parse_args()

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = args.data or tempfile.mkdtemp(prefix="attest-bench-docs-")
SET_UP = (Path(DATA) / "attest.sqlite3").exists()
os.environ.update(ATTEST_DATA_DIR=DATA, DEBUG="true")
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # breaches email
if not SET_UP:
    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))

from audit.sequencer import seal_all  # noqa: E402
from compliance.models import AIModel, ModelVersion, ReportSchedule  # noqa: E402
from compliance.reports import run_report  # noqa: E402
from modelcards.demo import log_decisions  # noqa: E402
from modelcards.documents import build, render  # noqa: E402
from modelcards.models import DocumentKind  # noqa: E402
from modelcards.pack import issue_pack  # noqa: E402

version = ModelVersion.objects.get(model__slug="credit-scoring", label="1.0.0")
model = AIModel.objects.get(slug="credit-scoring")
now = dt.datetime.now(dt.UTC)
if SET_UP:
    logged = version.predictions.count()
    print(f"set-up: reused {DATA}, {logged:,} decisions")
    args.decisions = logged
else:
    started = time.perf_counter()
    log_decisions(version, args.decisions, start=now - dt.timedelta(days=30), batch=5000)
    schedule = ReportSchedule.objects.filter(model=model, active=True).first()
    schedule = schedule or ReportSchedule.objects.create(model=model, name="Daily monitoring")
    run_report(model, end=now, schedule=schedule)
    seal_all()
    setup = time.perf_counter() - started
    print(f"set-up: {args.decisions:,} decisions logged and sealed in {setup:.0f} s in {DATA}")

runs, pages = [], 0
for i in range(args.runs):
    started = time.perf_counter()
    built = build(DocumentKind.SR117, model, now.date() + dt.timedelta(days=i))
    gathered = time.perf_counter()
    pdf = render(built)
    runs.append((time.perf_counter() - started, gathered - started, time.perf_counter() - gathered))
    pages = pdf.pages
totals = [r[0] for r in runs]
warm = runs[1:] or runs
print(
    f"SR 11-7 model documentation, demo model, {args.decisions:,} logged decisions, a monitoring "
    f"report, "
    f"{pages} pages with charts"
)
print("runs: " + ", ".join(f"{t:.2f} s" for t in totals))
evidence, layout = (statistics.median(r[i] for r in warm) for i in (1, 2))
print(
    f"first run {totals[0]:.2f} s (imports included); later runs: evidence {evidence:.2f} s, "
    f"PDF {layout:.2f} s"
)
target = 5 if args.decisions <= 15_000 else 10
print(f"median: {statistics.median(totals):.2f} s (target < {target} s)")

if args.pack:
    packs = []
    for i in range(args.runs):
        started = time.perf_counter()
        issue_pack(model, as_of=now.date() + dt.timedelta(days=100 + i))
        packs.append(time.perf_counter() - started)
    print("evidence pack runs: " + ", ".join(f"{t:.2f} s" for t in packs))
    print(f"evidence pack median: {statistics.median(packs):.2f} s (target < 20 s)")

if args.profile:
    profile = cProfile.Profile()
    profile.enable()
    render(build(DocumentKind.SR117, model, now.date() + dt.timedelta(days=200)))
    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
