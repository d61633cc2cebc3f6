"""Time to generate the SR 11-7 model documentation with charts for the demo model.

Sets up its own SQLite database in a temporary directory: migrate, seed_demo (20,000 training
rows), 5,000 logged decisions with outcomes, sealed; then gathers, renders and writes the PDF
five times for five as-of dates (so nothing is cached between runs) and prints the median.

    .venv/bin/python benchmarks/documents.py
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = tempfile.mkdtemp(prefix="attest-bench-docs-")
os.environ.update(ATTEST_DATA_DIR=DATA, DEBUG="true")
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)
call_command("seed_demo", stdout=open(os.devnull, "w"))

from audit.sequencer import seal_all  # noqa: E402
from compliance.models import AIModel, ModelVersion  # noqa: E402
from modelcards.demo import log_decisions  # noqa: E402
from modelcards.documents import build, render  # noqa: E402
from modelcards.models import DocumentKind  # noqa: E402

version = ModelVersion.objects.get(model__slug="credit-scoring", label="1.0.0")
today = dt.datetime.now(dt.UTC)
log_decisions(version, 5000, start=today - dt.timedelta(days=30))
seal_all()
model = AIModel.objects.get(slug="credit-scoring")

times, pages = [], 0
for i in range(5):
    started = time.perf_counter()
    pdf = render(build(DocumentKind.SR117, model, today.date() + dt.timedelta(days=i)))
    times.append(time.perf_counter() - started)
    pages = pdf.pages
print(f"SR 11-7 model documentation, demo model, 5,000 logged decisions, {pages} pages with charts")
print("runs: " + ", ".join(f"{t:.2f} s" for t in times))
print(f"median: {statistics.median(times):.2f} s (target < 5 s)")
