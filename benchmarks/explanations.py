"""Benchmarks of the SHAP explanations of the demo credit model.

    .venv/bin/python benchmarks/explanations.py shap     # SHAP explanations/s, by batch size
    .venv/bin/python benchmarks/explanations.py worker   # the background explainer, DB to ledger
    .venv/bin/python benchmarks/explanations.py ingest   # ingest/s with and without it running

``shap`` needs no database: the demo pipeline (scaler and logistic regression, trained on
20,000 synthetic applicants as ``seed_demo`` does) explained by ``compliance.explain`` against
100 training rows, in batches of 1, 100, 1,000 and 10,000 rows.

``worker`` and ``ingest`` make their own PostgreSQL database (``--db``, default
``attest_bench_explain``; the name must start with ``attest_bench``), migrate it, register the
demo version 1.0.0 with its skops artifact uploaded through ``compliance.artifacts``, and log
predictions without explanations (real inputs, the model's own scores). ``worker`` ingests
``--rows`` predictions in-process, seals them, and times ``explain_all``: sealed predictions
read, explained, written as ledger entries and records. ``ingest`` starts ``gunicorn
compliance.wsgi -k gthread`` with production settings and ``run_sequencer`` beside it, then
posts batches of 1,000 predictions from ``--clients`` processes for ``--duration`` seconds, in
rounds alternating without and with ``run_explainer`` (as deployed: ``--priority idle``) running
beside (it first catches up with the backlog of the round before), and prints predictions/s of
each, the longest the log went without a new signed checkpoint during the load, how many
explanations were written during the load and how long the explainer took to catch up after
it. The explainer must not cost ingest more than 10%. On a shared machine the rounds vary by
tens of percent: run several (``--rounds``) and read the medians.

Needs PostgreSQL on 127.0.0.1:5432 as ``postgres`` (``--pg-url``). Scratch files go to
``$ATTEST_BENCH_DIR`` (default /tmp/attest-bench).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import io
import json
import multiprocessing as mp
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
STATE = Path(os.environ.get("ATTEST_BENCH_DIR", "/tmp/attest-bench"))
PREDICTIONS = "/api/v1/predictions/"
sys.path.insert(0, str(ROOT))


def say(message: str = "") -> None:
    print(message, flush=True)


# ---------------------------------------------------------------------------- the model


def demo_model():
    """The demo pipeline, its skops bytes and 100 training rows as the background."""
    from compliance import demo

    trained = demo.train(20_000, seed=7)
    import skops.io as sio

    data = sio.dumps(trained.pipeline)
    background = trained.train[list(demo.FEATURES)].sample(100, random_state=0)
    return trained, data, background


def cmd_shap(args) -> None:
    import numpy as np

    from compliance import demo, explain

    trained, _, background = demo_model()
    explainer = explain.build_explainer(
        trained.pipeline, list(demo.FEATURES), background.to_numpy(float)
    )
    rows = demo.applicants(args.rows, seed=2026)[list(demo.FEATURES)].to_numpy(float)
    say(f"demo model: {explainer.method}, output {explainer.output_space}, 100 background rows")
    for batch in (1, 100, 1000, 10_000):
        n = min(len(rows), 2000 if batch == 1 else len(rows))
        explainer.explain(rows[:batch])  # warm
        started = time.perf_counter()
        worst = 0.0
        for i in range(0, n, batch):
            done = explainer.explain(rows[i : i + batch])
            worst = max(worst, float(done.additivity_errors.max()))
        seconds = time.perf_counter() - started
        say(
            f"  batches of {batch:>6,}: {n / seconds:>10,.0f} explanations/s "
            f"({n:,} rows; largest additivity error {worst:.1e})"
        )
    assert np.isfinite(worst)


# ---------------------------------------------------------------------------- environment


def signing_key_pem() -> str:
    path = STATE / "ledger-signing-key.pem"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        STATE.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
    return path.read_text()


def bench_env(args) -> dict[str, str]:
    if not args.db.startswith("attest_bench"):
        sys.exit(f"refusing database {args.db!r}: benchmark databases start with attest_bench")
    STATE.mkdir(parents=True, exist_ok=True)
    return {
        "DJANGO_SETTINGS_MODULE": "compliance.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "LEDGER_SIGNING_KEY": signing_key_pem(),
        "DATABASE_URL": f"{args.pg_url.rstrip('/')}/{args.db}",
        "ATTEST_DATA_DIR": str(STATE / "data"),
        "LOG_LEVEL": "WARNING",
    }


def prepare(args, env: dict[str, str]) -> str:
    """A fresh, migrated database with the demo version and its artifact; the service's key."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{args.pg_url.rstrip('/')}/postgres", autocommit=True) as conn:
        name = sql.Identifier(args.db)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from compliance import demo
    from compliance.artifacts import store_artifact
    from compliance.choices import EUAIActCategory, RiskTier
    from compliance.models import AIModel, ModelVersion

    call_command("migrate", verbosity=0, interactive=False)
    call_command("create_user", "bench-service", role="service", stdout=io.StringIO())
    call_command(
        "create_user",
        "bench-developer",
        role="developer",
        password=secrets.token_urlsafe(16),
        stdout=io.StringIO(),
    )
    out = io.StringIO()
    call_command(
        "create_api_key",
        user="bench-service",
        name="benchmark",
        all_models=True,
        all_actions=True,
        stdout=out,
    )
    from django.contrib.auth import get_user_model

    developer = get_user_model().objects.get(username="bench-developer")
    trained, data, background = demo_model()
    model = AIModel.objects.create(
        name="Retail credit scoring",
        slug="credit-scoring",
        risk_tier=RiskTier.HIGH,
        eu_ai_act_category=EUAIActCategory.HIGH_RISK,
        annex_iii_area="essential_services",
        sensitive_attributes=list(demo.SENSITIVE),
        favourable_value=1,
        business_owner=developer,
    )
    model.developing_team.add(developer)
    version = ModelVersion.objects.create(
        model=model,
        label="1.0.0",
        artifact_uri="s3://models/credit/1.0.0/model.skops",
        artifact_sha256=hashlib.sha256(data).hexdigest(),
        training_data_uri="s3://data/credit/train.csv",
        training_data_sha256="b" * 64,
        training_row_count=len(trained.train),
        training_date_from=demo.TRAINING_FROM,
        training_date_to=demo.TRAINING_TO,
        feature_pipeline_version="features-2025.12",
        input_schema=demo.input_schema(),
        code_commit="bench",
        evaluation_metrics=trained.metrics,
        baselines=demo.baselines(trained),
        created_by=developer,
    )
    store_artifact(version, data, actor=developer, background=background.to_dict("records"))
    from django.db import connections

    connections.close_all()
    return out.getvalue().strip()


def predictions(seed: int, count: int) -> list[dict]:
    """``count`` demo applicants scored by the model, logged without an explanation."""
    from compliance import demo

    global _MODEL
    if "_MODEL" not in globals():
        _MODEL = demo.train(20_000, seed=7).pipeline
    people = demo.applicants(count, seed=seed)
    scores = _MODEL.predict_proba(people[list(demo.FEATURES)])[:, 1]
    decided = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return [
        {
            "event_id": str(uuid.uuid4()),
            "model": "credit-scoring",
            "version": "1.0.0",
            "decided_at": decided,
            "inputs": {name: float(row[name]) for name in demo.FEATURES},
            "output": {"score": round(float(score), 6), "decision": int(score >= 0.5)},
            "sensitive": {"sex": row["sex"], "age_band": row["age_band"]},
            "context": {"environment": "production", "channel": "web"},
        }
        for row, score in zip(people.to_dict("records"), scores, strict=True)
    ]


# ---------------------------------------------------------------------------- worker


def cmd_worker(args) -> None:
    env = bench_env(args)
    prepare(args, env)
    from audit.ingest import ingest_predictions
    from audit.sequencer import seal_all
    from compliance.explanations import explain_all

    say(f"logging {args.rows:,} predictions without explanations, sealing them")
    for i in range(0, args.rows, 1000):
        ingest_predictions(predictions(i, min(1000, args.rows - i)))
    seal_all()
    started = time.perf_counter()
    done = explain_all(batch=args.batch)
    seconds = time.perf_counter() - started
    say(
        f"explain_all, batches of {args.batch:,}: {done.explained:,} explained "
        f"({done.mismatches} did not add up, {done.unexplainable} unexplainable) in "
        f"{seconds:.1f} s = {done.explained / seconds:,.0f} explanations/s, each a ledger entry "
        "and a record"
    )


# ---------------------------------------------------------------------------- ingest


@contextlib.contextmanager
def process(env, cmd: list[str], log: str, ready=None) -> Iterator[subprocess.Popen]:
    with (STATE / log).open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out)
    try:
        if ready is not None:
            ready(proc)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT if "manage.py" in cmd[1:2] else signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for_server(port: int):
    def ready(proc):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                sys.exit(f"gunicorn exited; see {STATE}/gunicorn-explain.log")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/checkpoints/latest/")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.2)
        sys.exit("gunicorn did not answer")

    return ready


def poster(port: int, key: str, bodies: list[bytes], until: float, queue) -> None:
    headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    acked = errors = 0
    for body in bodies:
        if time.time() >= until:
            break
        conn.request("POST", PREDICTIONS, body, headers)
        response = conn.getresponse()
        reply = response.read()
        if response.status == 201:
            acked += len(json.loads(reply)["receipts"])
        else:
            errors += 1
    queue.put((acked, errors, time.time()))


def load(args, key: str, seed: int) -> tuple[float, float]:
    """Post for ``--duration`` seconds from ``--clients`` processes: predictions/s, and the
    longest the log went without a new signed checkpoint meanwhile (seconds)."""
    per_client = int(15_000 * args.duration / 1000 / args.clients) + 2
    bodies = [
        [json.dumps(predictions(seed * 1000 + c * 100 + i, 1000)).encode()
         for i in range(per_client)]
        for c in range(args.clients)
    ]  # fmt: skip
    queue = mp.Queue()
    start = time.time() + 1.0
    until = start + args.duration
    procs = [
        mp.Process(target=_delayed, args=(start, args.port, key, bodies[c], until, queue))
        for c in range(args.clients)
    ]
    for p in procs:
        p.start()
    gaps: list[float] = []
    watching = threading.Event()
    watcher = threading.Thread(target=checkpoint_gaps, args=(args, start, watching, gaps))
    watcher.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    watching.set()
    watcher.join()
    acked = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    elapsed = max(r[2] for r in results) - start
    if errors:
        say(f"    {errors} batches failed")
    return acked / elapsed, max(gaps, default=float("nan"))


def checkpoint_gaps(args, start: float, stop: threading.Event, gaps: list[float]) -> None:
    """Every 0.25 s of the load: seconds since the latest checkpoint was signed."""
    import psycopg

    with psycopg.connect(f"{args.pg_url.rstrip('/')}/{args.db}", autocommit=True) as conn:
        while not stop.wait(0.25):
            if time.time() < start:
                continue
            row = conn.execute(  # since the last checkpoint, or since the load began
                "SELECT EXTRACT(EPOCH FROM now() - GREATEST(max(issued_at), to_timestamp(%s))) "
                "FROM audit_checkpoint",
                [start],
            ).fetchone()
            gaps.append(float(row[0]))


def _delayed(start, port, key, bodies, until, queue) -> None:
    time.sleep(max(0.0, start - time.time()))
    poster(port, key, bodies, until, queue)


def explainer_state():
    from django.db import connection

    from audit.models import ExplainerProgress, SequencerState

    connection.close()
    progress = ExplainerProgress.objects.get()
    sealed = SequencerState.objects.get(pk=1).watermark_id
    return progress.explained + progress.unexplainable, progress.watermark_id, sealed


def caught_up(timeout: float = 600) -> float:
    """Wait until the explainer has reached what the sequencer sealed; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        _, watermark, sealed = explainer_state()
        if watermark >= sealed:
            break
        time.sleep(0.2)
    return time.monotonic() - started


def cmd_ingest(args) -> None:
    env = bench_env(args)
    key = prepare(args, env)
    say(
        f"PostgreSQL {args.db}; gunicorn -w {args.workers} --threads {args.threads}; "
        f"{args.clients} clients posting batches of 1,000 for {args.duration:.0f} s per round"
    )
    gunicorn = [
        str(VENV_BIN / "gunicorn"), "compliance.wsgi", "-w", str(args.workers), "-k", "gthread",
        "--threads", str(args.threads), "-b", f"127.0.0.1:{args.port}",
    ]  # fmt: skip
    sequencer = [PYTHON, "manage.py", "run_sequencer", "--interval", "0.2"]
    explainer = [PYTHON, "manage.py", "run_explainer", "--priority", args.priority]
    rates: dict[bool, list[float]] = {False: [], True: []}
    with (
        process(env, gunicorn, "gunicorn-explain.log", wait_for_server(args.port)),
        process(env, sequencer, "sequencer-explain.log"),
    ):
        load(args, key, seed=99)  # warm-up: every worker imports and connects
        for round_ in range(args.rounds):
            for with_explainer in (False, True):
                seed = round_ * 2 + with_explainer + 1
                if not with_explainer:
                    time.sleep(2)
                    rate, gap = load(args, key, seed)
                    say(
                        f"  round {round_ + 1} without explainer      {rate:>9,.0f} predictions/s; "
                        f"longest without a checkpoint {gap:.1f} s"
                    )
                    rates[False].append(rate)
                    continue
                with process(env, explainer, "explainer.log"):
                    waited = caught_up()  # the explainer runs all the time, as deployed
                    before = explainer_state()[0]
                    rate, gap = load(args, key, seed)
                    during = explainer_state()[0] - before
                    time.sleep(1)  # the sequencer seals the tail
                    catch_up = caught_up() + 1
                rates[True].append(rate)
                say(
                    f"  round {round_ + 1} with run_explainer    {rate:>9,.0f} predictions/s; "
                    f"longest without a checkpoint {gap:.1f} s; explained during the load "
                    f"{during:,}, caught up {catch_up:.1f} s after it "
                    f"(the earlier backlog took {waited:.1f} s before the load)"
                )
    without, with_ = statistics.median(rates[False]), statistics.median(rates[True])
    change = (with_ - without) / without * 100
    verdict = "MET" if change >= -10 else "MISSED"
    say(
        f"median: {without:,.0f}/s without, {with_:,.0f}/s with the explainer running: "
        f"{change:+.1f}% (must not fall more than 10%: {verdict})"
    )
    done, _, _ = explainer_state()
    say(f"explanations written in all: {done:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    shap = sub.add_parser("shap")
    shap.add_argument("--rows", type=int, default=100_000)
    for name in ("worker", "ingest"):
        p = sub.add_parser(name)
        p.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
        p.add_argument("--db", default="attest_bench_explain")
    sub.choices["worker"].add_argument("--rows", type=int, default=100_000)
    sub.choices["worker"].add_argument("--batch", type=int, default=1000)
    ingest = sub.choices["ingest"]
    ingest.add_argument("--port", type=int, default=8766)
    ingest.add_argument("--workers", type=int, default=4)
    ingest.add_argument("--threads", type=int, default=2)
    ingest.add_argument("--clients", type=int, default=2)
    ingest.add_argument("--duration", type=float, default=20)
    ingest.add_argument("--rounds", type=int, default=3)
    ingest.add_argument("--priority", default="idle", help="run_explainer --priority")
    args = parser.parse_args()
    {"shap": cmd_shap, "worker": cmd_worker, "ingest": cmd_ingest}[args.command](args)


if __name__ == "__main__":
    main()
