"""Benchmarks of the audit ledger on PostgreSQL, with the server run as in production.

    .venv/bin/python benchmarks/ledger.py ingest   # batched ingest over HTTP: predictions/s
    .venv/bin/python benchmarks/ledger.py single   # one prediction per request: req/s, p50/p99
    .venv/bin/python benchmarks/ledger.py seal     # acknowledged -> in a signed checkpoint: p99
    .venv/bin/python benchmarks/ledger.py trail    # trail lookup among 10 million entries
    .venv/bin/python benchmarks/ledger.py verify   # verify_ledger on 1 million entries

Targets (DESIGN.md, 2 cores, PostgreSQL on the same machine): ingest >= 10,000 predictions/s;
single >= 500 req/s with p99 < 20 ms; sealed p99 < 2 s; trail < 50 ms; verification >= 100,000
entries/s.

Each subcommand makes its own PostgreSQL database (``--db``, default ``attest_bench`` or
``attest_bench_trail`` / ``attest_bench_verify``; the name must start with ``attest_bench``),
migrates it, creates a service account and an auditor with API keys (``create_user``,
``create_api_key``) and the credit-scoring model version (six numeric inputs), starts
``gunicorn compliance.wsgi -k gthread`` on 127.0.0.1 with production settings (DEBUG=false, a
random SECRET_KEY, an Ed25519 LEDGER_SIGNING_KEY), runs the load, prints the figures and stops
the server. ``trail`` and ``verify`` build their entries with SQL (generate_series, sha256(),
the Merkle tree level by level, a checkpoint signed with the real key) and keep the database
for the next run (``--rebuild`` forces a new one). Needs PostgreSQL on 127.0.0.1:5432 as user
``postgres`` (``--pg-url``) and, for ``single``, ``wrk`` (``apt-get install wrk``).

Useful options: ``--workers 2 --threads 4`` (gunicorn), ``--configs 2x4,4x2`` (try several
worker x thread configurations in one run), ``--duration 30`` (seconds of load),
``--connections 32`` (``single``), ``--clients 2`` (load processes for ``ingest``/``seal``),
``--entries 10000000`` (``trail``), ``--sequencer`` (``ingest``/``single``: run_sequencer
beside the server, as in production). Scratch files (signing key, logs, exports) go to
``$ATTEST_BENCH_DIR`` (default /tmp/attest-bench).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import io
import json
import math
import multiprocessing as mp
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
STATE = Path(os.environ.get("ATTEST_BENCH_DIR", "/tmp/attest-bench"))
MODEL, LABEL = "credit-scoring", "1.0.0"
PREDICTIONS = "/api/v1/predictions/"

FEATURES = (
    "income",
    "debt_to_income",
    "credit_history_years",
    "delinquencies",
    "loan_amount",
    "employment_years",
)


# ---------------------------------------------------------------------------- figures


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def say(message: str = "") -> None:
    print(message, flush=True)


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


# ---------------------------------------------------------------------------- environment


def signing_key_pem() -> str:
    """One Ed25519 key per ATTEST_BENCH_DIR, so a kept database keeps verifying."""
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
    """Production settings for gunicorn, the sequencer and this process."""
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
        # Rate limits shared by every web process, as production runs them (db 15: scratch).
        "CACHE_URL": os.environ.get("ATTEST_BENCH_CACHE_URL", "redis://127.0.0.1:6379/15"),
        "LOG_LEVEL": "WARNING",
    }


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def admin_connection(args):
    import psycopg

    return psycopg.connect(f"{args.pg_url.rstrip('/')}/postgres", autocommit=True)


def database_exists(args) -> bool:
    with admin_connection(args) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db]).fetchone()
    return row is not None


def recreate_database(args) -> None:
    from psycopg import sql

    assert args.db.startswith("attest_bench")
    with admin_connection(args) as conn:
        name = sql.Identifier(args.db)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def prepare(args, env: dict[str, str], fresh: bool = True) -> dict[str, str]:
    """A migrated database with the bench accounts and model version; returns API keys."""
    if fresh or not database_exists(args):
        say(f"database {args.db}: creating")
        recreate_database(args)
    setup_django(env)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from compliance import demo
    from compliance.choices import EUAIActCategory, RiskTier
    from compliance.models import AIModel, ModelVersion

    call_command("migrate", verbosity=0, interactive=False)
    users = get_user_model().objects
    for username, role in BENCH_USERS.items():
        if not users.filter(username=username).exists():
            call_command(
                "create_user",
                username,
                role=role,
                password=secrets.token_urlsafe(16),
                stdout=io.StringIO(),
            )
    owner = users.get(username="bench-auditor")
    model, _ = AIModel.objects.get_or_create(
        slug=MODEL,
        defaults={
            "name": "Retail credit scoring",
            "risk_tier": RiskTier.HIGH,
            "eu_ai_act_category": EUAIActCategory.HIGH_RISK,
            "annex_iii_area": "essential_services",
            "sensitive_attributes": list(demo.SENSITIVE),
            "favourable_label": "approved",
            "favourable_value": 1,
            "business_owner": owner,
        },
    )
    if not model.versions.filter(label=LABEL).exists():
        version = ModelVersion.objects.create(
            model=model,
            label=LABEL,
            artifact_uri="s3://models/credit/1.0.0/model.skops",
            artifact_sha256="a" * 64,
            training_data_uri="s3://data/credit/train-2025.parquet",
            training_data_sha256="b" * 64,
            training_row_count=15000,
            training_date_from=demo.TRAINING_FROM,
            training_date_to=demo.TRAINING_TO,
            feature_pipeline_version="features-2025.12",
            input_schema=demo.input_schema(),
            code_commit="3f2c1e9",
            configuration={"C": 1.0, "max_iter": 500},
            evaluation_metrics={"accuracy": 0.81, "roc_auc": 0.87},
            baselines={},
            created_by=users.get(username="bench-developer"),
        )
        # Approved and deployed, as a version serving production is.
        version.model.developing_team.add(users.get(username="bench-developer"))
        demo.approve_and_deploy(
            version,
            developer=users.get(username="bench-developer"),
            validators=[users.get(username=f"bench-validator-{n}") for n in (1, 2)],
            officer=users.get(username="bench-officer"),
            reviews=demo.reviews(version, demo.train(2000)),
        )
    keys = {}
    for role, username in (("service", "bench-service"), ("auditor", "bench-auditor")):
        out = io.StringIO()
        # Keys scoped to the model, as production issues them (the scope is checked per item).
        call_command(
            "create_api_key", user=username, name="benchmark", model=[MODEL], all_actions=True,
            stdout=out,
        )  # fmt: skip
        keys[role] = out.getvalue().strip()
    from django.db import connections

    connections.close_all()
    return keys


BENCH_USERS = {
    "bench-service": "service",
    "bench-auditor": "auditor",
    "bench-developer": "developer",
    "bench-validator-1": "validator",
    "bench-validator-2": "validator",
    "bench-officer": "risk_officer",
}


def postgres_settings() -> str:
    """PostgreSQL's durability settings, and how busy the machine is before the load."""
    from django.db import connection

    load = os.getloadavg()[0]
    if load > 0.5:
        say(f"WARNING: load average {load:.1f} before the run: something else is using the CPUs")

    with connection.cursor() as cursor:
        values = []
        for name in ("synchronous_commit", "fsync", "shared_buffers", "wal_sync_method"):
            cursor.execute(f"SHOW {name}")
            values.append(f"{name}={cursor.fetchone()[0]}")
    return ", ".join(values)


# ---------------------------------------------------------------------------- processes


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def gunicorn(env: dict[str, str], port: int, workers: int, threads: int) -> Iterator[None]:
    if not port_is_free(port):
        sys.exit(f"port {port} is in use: pick another with --port")
    log = STATE / f"gunicorn-{port}.log"
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "compliance.wsgi",
        "-w",
        str(workers),
        "-k",
        "gthread",
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
    ]
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                sys.exit(f"gunicorn exited with {proc.returncode}; see {log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/checkpoints/latest/")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit(f"gunicorn did not answer on port {port}; see {log}")
                time.sleep(0.2)
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def sequencer(env: dict[str, str], interval: float) -> Iterator[None]:
    log = STATE / "sequencer.log"
    cmd = [PYTHON, "manage.py", "run_sequencer", "--interval", str(interval)]
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out)
    try:
        time.sleep(1.5)
        if proc.poll() is not None:
            sys.exit(f"run_sequencer exited with {proc.returncode}; see {log}")
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def beside(args, env: dict[str, str]):
    """The sequencer beside the server, as in production (``--sequencer``), or nothing."""
    if getattr(args, "sequencer", False):
        return sequencer(env, args.interval)
    return contextlib.nullcontext()


def seq_label(args) -> str:
    return " + run_sequencer" if getattr(args, "sequencer", False) else ""


def server_configs(args) -> list[tuple[int, int]]:
    if args.configs:
        return [tuple(int(x) for x in c.split("x")) for c in args.configs.split(",")]
    return [(args.workers, args.threads)]


# ---------------------------------------------------------------------------- load


def prediction(rng: random.Random, decided_at: str) -> dict:
    """A realistic credit-scoring prediction: six numeric inputs, explanation, sensitive."""
    inputs = {
        "income": round(min(max(rng.lognormvariate(3.7, 0.45), 5), 900), 1),
        "debt_to_income": round(min(rng.gammavariate(2.0, 0.18), 4.5), 3),
        "credit_history_years": round(min(rng.gammavariate(3.0, 3.2), 60), 1),
        "delinquencies": min(int(rng.expovariate(1.6)), 20),
        "loan_amount": round(min(max(rng.lognormvariate(2.8, 0.6), 1), 1500), 1),
        "employment_years": round(min(rng.gammavariate(2.0, 3.0), 45), 1),
    }
    weights = (0.021, -1.9, 0.06, -0.55, -0.008, 0.04)
    contributions = {
        name: round(w * (inputs[name] - 1.0), 4) for name, w in zip(FEATURES, weights, strict=True)
    }
    z = -0.4 + sum(contributions.values())
    score = round(1 / (1 + math.exp(-max(min(z, 30), -30))), 6)
    return {
        "event_id": str(uuid.uuid4()),
        "model": MODEL,
        "version": LABEL,
        "decided_at": decided_at,
        "inputs": inputs,
        "output": {"score": score, "decision": int(score >= 0.5)},
        "explanation": contributions,
        "sensitive": {
            "sex": rng.choice(("F", "M")),
            "age_band": rng.choice(("18-24", "25-39", "40-59", "60+")),
        },
        "context": {
            "request_id": f"req-{rng.getrandbits(48):012x}",
            "channel": rng.choice(("web", "branch", "api")),
            "environment": "production",
        },
    }


def bodies(seed: int, count: int, batch: int) -> list[bytes]:
    rng = random.Random(seed)
    decided = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = []
    for _ in range(count):
        items = [prediction(rng, decided) for _ in range(batch)]
        out.append(json.dumps(items[0] if batch == 1 else items).encode())
    return out


class Client:
    """One keep-alive HTTP/1.1 connection that reconnects (and resends) when the server hangs
    up an idle connection. Resending is safe: event ids make ingest idempotent."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.conn.request(method, path, body, self.headers)
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (ConnectionError, http.client.HTTPException, TimeoutError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def post_worker(
    port, key, seed, n_bodies, batch, barrier, deadline_s, rate, want_receipts, out
) -> None:
    """Child process: post pre-built bodies until they run out or time is up; report each."""
    payloads = bodies(seed, n_bodies, batch)
    client = Client(port, key)
    results = []
    barrier.wait()
    start = time.time()
    for i, body in enumerate(payloads):
        if rate:  # paced (open loop): request i is due at start + i / rate
            due = start + i / rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
        if time.time() - start > deadline_s:
            break
        sent = time.time()
        status, data = client.request("POST", PREDICTIONS, body)
        acked = time.time()
        ids = None
        if want_receipts and status == 201:
            parsed = json.loads(data)
            ids = [r["entry_id"] for r in parsed.get("receipts", [parsed])]
        results.append((sent, acked, status, batch, ids, data[:300] if status >= 300 else b""))
    out.put(results)


def run_posters(args, key: str, batch: int, n_bodies: int, rate_each: float, receipts: bool):
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    barrier = ctx.Barrier(args.clients + 1)
    procs = [
        ctx.Process(
            target=post_worker,
            args=(
                args.port,
                key,
                secrets.randbits(64) + i,
                n_bodies,
                batch,
                barrier,
                args.duration,
                rate_each,
                receipts,
                out,
            ),
        )
        for i in range(args.clients)
    ]
    for p in procs:
        p.start()
    barrier.wait()
    started = time.time()
    results = []
    for _ in procs:
        results.extend(out.get())
    for p in procs:
        p.join()
    return started, results


def check_stored(acked: int, before: int, in_flight: int = 0) -> str:
    """Every acknowledged prediction is in the database, and a sample hashes right.

    ``in_flight``: requests wrk had sent but not counted when its time was up (stored, yet
    not acknowledged to wrk)."""
    from audit.merkle import leaf_hash
    from audit.models import LedgerEntry, PredictionRecord

    stored = PredictionRecord.objects.count() - before
    sample = list(
        LedgerEntry.objects.filter(kind="prediction")
        .order_by("-id")[:200]
        .values_list("canonical", "leaf_hash")
    )
    bad = sum(1 for c, h in sample if leaf_hash(bytes(c)) != bytes(h))
    ok = acked <= stored <= acked + in_flight and bad == 0
    return (
        f"stored {stored:,} of {acked:,} acknowledged; {len(sample) - bad}/{len(sample)} "
        f"sampled leaf hashes = SHA-256(0x00 || canonical) -> {'OK' if ok else 'MISMATCH'}"
    )


# ---------------------------------------------------------------------------- ingest


def cmd_ingest(args) -> None:
    env = bench_env(args)
    keys = prepare(args, env)
    from audit.models import PredictionRecord

    say(f"PostgreSQL: {postgres_settings()}")
    batch = args.batch
    target_rate = 15_000  # bodies enough to sustain 1.5x the target for the whole duration
    n_bodies = max(2, math.ceil(target_rate * args.duration / batch / args.clients))
    for workers, threads in server_configs(args):
        with gunicorn(env, args.port, workers, threads), beside(args, env):
            warm = Client(args.port, keys["service"])
            for body in bodies(1, 2 * workers, batch):  # every worker imports and connects
                warm.request("POST", PREDICTIONS, body)
            before = PredictionRecord.objects.count()
            started, results = run_posters(args, keys["service"], batch, n_bodies, 0, False)
            ended = max(r[1] for r in results)
        ok = [r for r in results if r[2] == 201]
        acked = sum(r[3] for r in ok)
        latencies = [r[1] - r[0] for r in ok]
        elapsed = ended - started
        rate = acked / elapsed
        say(
            f"ingest gthread -w {workers} --threads {threads}{seq_label(args)}, "
            f"{args.clients} clients, "
            f"batches of {batch}: {acked:,} predictions in {elapsed:.1f} s = {rate:,.0f}/s "
            f"(target >= 10,000/s: {verdict(rate >= 10_000)}); per batch p50 "
            f"{ms(pct(latencies, 50))}, p99 {ms(pct(latencies, 99))}; "
            f"errors {len(results) - len(ok)}"
        )
        for r in results:
            if r[2] != 201:
                say(f"  first error: HTTP {r[2]} {r[5]!r}")
                break
        say(f"  {check_stored(acked, before)}")


# ---------------------------------------------------------------------------- single

WRK_SCRIPT = Path(__file__).with_name("single_prediction.lua")


def cmd_single(args) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    env = bench_env(args)
    keys = prepare(args, env)
    from audit.models import PredictionRecord

    say(f"PostgreSQL: {postgres_settings()}")
    for workers, threads in server_configs(args):
        with gunicorn(env, args.port, workers, threads), beside(args, env):
            warm = Client(args.port, keys["service"])
            for body in bodies(2, 20, 1):
                warm.request("POST", PREDICTIONS, body)
            for connections in [int(c) for c in str(args.connections).split(",")]:
                before = PredictionRecord.objects.count()
                cmd = [
                    "wrk",
                    "-t",
                    str(args.wrk_threads),
                    "-c",
                    str(connections),
                    "-d",
                    f"{int(args.duration)}s",
                    "--timeout",
                    "10s",
                    "-s",
                    str(WRK_SCRIPT),
                    f"http://127.0.0.1:{args.port}{PREDICTIONS}",
                ]
                wrk_env = {
                    **os.environ,
                    "ATTEST_KEY": keys["service"],
                    "ATTEST_RUN": secrets.token_hex(4),
                }
                proc = subprocess.run(cmd, env=wrk_env, capture_output=True, text=True)
                if proc.returncode != 0 or "JSON " not in proc.stdout:
                    sys.exit(f"wrk failed: {proc.stdout}{proc.stderr}")
                line = [x for x in proc.stdout.splitlines() if x.startswith("JSON ")][-1]
                stats = json.loads(line[5:])
                good = stats["requests"] - stats["non2xx"] - stats["socket_errors"]
                rps = good / stats["seconds"]
                p50, p99 = stats["p50_us"] / 1000, stats["p99_us"] / 1000
                say(
                    f"single gthread -w {workers} --threads {threads}{seq_label(args)}, "
                    f"wrk -c {connections}: "
                    f"{rps:,.0f} req/s (target >= 500: {verdict(rps >= 500)}), latency p50 "
                    f"{p50:.1f} ms, p90 {stats['p90_us'] / 1000:.1f} ms, p99 {p99:.1f} ms "
                    f"(target < 20 ms: {verdict(p99 < 20)}), max {stats['max_us'] / 1000:.0f} "
                    f"ms; non-2xx {stats['non2xx']}, socket errors {stats['socket_errors']}"
                )
                say(f"  {check_stored(good, before, connections)}")


# ---------------------------------------------------------------------------- seal


def cmd_seal(args) -> None:
    env = bench_env(args)
    keys = prepare(args, env)
    from django.db import connection

    say(f"PostgreSQL: {postgres_settings()}")
    workers, threads = server_configs(args)[0]
    rate_each = args.rate / args.clients
    n_bodies = math.ceil(rate_each * args.duration) + 1
    observed: list[tuple[float, int]] = []
    stop = threading.Event()

    def poll() -> None:
        """Which tree size is signed, as a reader sees it: every 10 ms."""
        import psycopg

        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            while not stop.is_set():
                row = conn.execute("SELECT max(tree_size) FROM audit_checkpoint").fetchone()
                observed.append((time.time(), row[0] or 0))
                time.sleep(0.01)

    with gunicorn(env, args.port, workers, threads), sequencer(env, args.interval):
        warm = Client(args.port, keys["service"])
        for body in bodies(3, 2 * workers, args.batch):
            warm.request("POST", PREDICTIONS, body)
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        started, results = run_posters(args, keys["service"], args.batch, n_bodies, rate_each, True)
        ended = max(r[1] for r in results)
        ok = [r for r in results if r[2] == 201]
        acked = {entry_id: r[1] for r in ok for entry_id in r[4]}
        deadline = time.time() + 30
        last = max(acked)
        with connection.cursor() as cursor:
            while time.time() < deadline:
                cursor.execute(
                    "SELECT l.index < c.size FROM audit_leaf l, "
                    "(SELECT max(tree_size) AS size FROM audit_checkpoint) c WHERE l.entry_id = %s",
                    [last],
                )
                row = cursor.fetchone()
                if row and row[0]:
                    break
                time.sleep(0.05)
        time.sleep(0.1)
        stop.set()
        poller.join()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT entry_id, index FROM audit_leaf WHERE entry_id = ANY(%s)", [list(acked)]
        )
        leaf_of = dict(cursor.fetchall())
        cursor.execute("SELECT tree_size, issued_at FROM audit_checkpoint ORDER BY tree_size")
        checkpoints = [(size, issued.timestamp()) for size, issued in cursor.fetchall()]
    import bisect

    sizes_seen = [size for _, size in observed]
    sizes_signed = [size for size, _ in checkpoints]
    seen_latency, signed_latency, unsealed = [], [], 0
    for entry_id, acked_at in acked.items():
        index = leaf_of.get(entry_id)
        if index is None:
            unsealed += 1
            continue
        i = bisect.bisect_right(sizes_seen, index)  # first observation with tree_size > index
        j = bisect.bisect_right(sizes_signed, index)
        if i == len(observed) or j == len(checkpoints):
            unsealed += 1
            continue
        seen_latency.append(max(observed[i][0] - acked_at, 0.0))
        signed_latency.append(checkpoints[j][1] - acked_at)
    elapsed = ended - started
    p99 = pct(seen_latency, 99)
    say(
        f"seal: gthread -w {workers} --threads {threads} + run_sequencer --interval "
        f"{args.interval}; load {len(ok) / elapsed:,.0f} req/s x {args.batch} = "
        f"{len(acked) / elapsed:,.0f} predictions/s for {elapsed:.0f} s "
        f"({len(results) - len(ok)} errors)"
    )
    say(
        f"  acknowledged -> visible in a signed checkpoint (polled every 10 ms), "
        f"{len(seen_latency):,} entries: p50 {ms(pct(seen_latency, 50))}, p99 {ms(p99)}, "
        f"max {ms(max(seen_latency, default=float('nan')))} (target p99 < 2 s: "
        f"{verdict(p99 < 2)}); not sealed within 30 s: {unsealed}"
    )
    say(
        f"  acknowledged -> checkpoint issued_at: p50 {ms(pct(signed_latency, 50))}, "
        f"p99 {ms(pct(signed_latency, 99))}; checkpoints issued: {len(checkpoints)}"
    )


# ---------------------------------------------------------------------------- building entries

# Pseudo-random but reproducible values of entry g, as SQL expressions. They must print as
# RFC 8785 does: PostgreSQL's float8 output is the shortest round-trip form, identical to
# ECMAScript's for the magnitudes used here (1e-4 <= |x| < 1e15); a sample is re-canonicalised
# with rfc8785 after the build to prove it.
HEX = "md5(g::text || 'attest-bench')"
EVENT_ID = f"(overlay(overlay({HEX} placing '4' from 13) placing '8' from 17))::uuid"
EPOCH = "timestamptz '2026-01-01 00:00:00+00'"
DECIDED = f"({EPOCH} + (g / 10) * interval '1 second')"
RECEIVED = f"({DECIDED} + interval '0.250001 seconds')"
SEX, AGE_BAND = "(ARRAY['F','M'])[1 + g % 2]", "(ARRAY['18-24','25-39','40-59','60+'])[1 + g % 4]"
SCORE = "(0.01 + (g * 7919 % 980000) / 1000000.0)::float8"
INPUTS = {
    "credit_history_years": "((g * 31 % 600) / 10.0)::float8",
    "debt_to_income": "((g * 37 % 4500) / 1000.0)::float8",
    "delinquencies": "(g * 41 % 7)",
    "employment_years": "((g * 43 % 450) / 10.0)::float8",
    "income": "(5 + (g * 47 % 8950) / 10.0)::float8",
    "loan_amount": "(1 + (g * 53 % 14990) / 10.0)::float8",
}
EXPLAIN = {
    name: f"(((g * {17 + 2 * i} + {i}) % 2001 - 1000) / 10000.0)::float8"
    for i, name in enumerate(sorted(INPUTS))
}


def _object(fields: dict[str, str]) -> str:
    """SQL text expression of a JSON object with numeric values (keys already sorted)."""
    parts = [f"'\"{k}\":' || {v}::text" for k, v in sorted(fields.items())]
    return "'{' || " + " || ',' || ".join(parts) + " || '}'"


def _iso(expr: str, micro: bool) -> str:
    fmt = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"' if micro else 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
    return f"to_char({expr} AT TIME ZONE 'UTC', '{fmt}')"


def canonical_sql(manifest: str) -> str:
    """The RFC 8785 canonical text of prediction g's ledger payload (keys in code-unit order)."""
    content = f"encode(sha256(convert_to({HEX} || 'content', 'UTF8')), 'hex')"
    # SHA-256(salt ‖ canonical values) of the row sensitive_sql writes (audit.projections).
    sensitive = (
        f"encode(sha256(decode({HEX}, 'hex') || convert_to('{{\"age_band\":\"' || {AGE_BAND} "
        f"|| '\",\"sex\":\"' || {SEX} || '\"}}', 'UTF8')), 'hex')"
    )
    channel = "(ARRAY['api','branch','web'])[1 + g % 3]"
    decision = f"(CASE WHEN {SCORE} >= 0.5 THEN 1 ELSE 0 END)"
    return " || ".join(
        [
            '\'{"content_hmac":"\' || ' + content + " || '\",'",
            '\'"context":{"channel":"\' || ' + channel + " || '\",'",
            '\'"environment":"production","request_id":"req-\' || left(' + HEX + ", 12) || '\"},'",
            '\'"decided_at":"\' || ' + _iso(DECIDED, False) + " || '\",'",
            f"'\"event_id\":\"' || {EVENT_ID}::text || '\",'",
            "'\"explanation\":' || " + _object(EXPLAIN) + " || ','",
            "'\"inputs\":' || " + _object(INPUTS) + " || ','",
            '\'"kind":"prediction","model":"' + MODEL + "\",'",
            f'\'"output":{{"decision":\' || {decision}::text || \',"score":\' || '
            f"{SCORE}::text || '}},'",
            '\'"received_at":"\' || ' + _iso(RECEIVED, True) + " || '\",'",
            '\'"schema_violations":[],"sensitive_sha256":"\' || ' + sensitive + " || '\",'",
            '\'"unapproved_version":true,"version":"' + LABEL + "\",'",
            f'\'"version_manifest_sha256":"{manifest}"}}\'',
        ]
    )


def _parallel(dsn: str, statements: list[str], jobs: int) -> None:
    """Run statements on ``jobs`` connections at once (each its own transaction)."""
    import psycopg

    errors = []

    def work(chunk: list[str]) -> None:
        try:
            with psycopg.connect(dsn) as conn:
                conn.execute("SET synchronous_commit = off")
                for statement in chunk:
                    conn.execute(statement)
                    conn.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(statements[i::jobs],)) for i in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _fill(sql: str, lo: int, hi: int) -> str:
    return sql.replace("{lo}", str(lo)).replace("{hi}", str(hi))


def _ranges(n: int, chunk: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + chunk - 1, n)) for lo in range(1, n + 1, chunk)]


def build_ledger(env: dict[str, str], n: int, jobs: int = 2) -> None:
    """n sequenced prediction entries, their records, Merkle tree and signed checkpoints."""
    import psycopg
    from django.db import connection

    from audit import merkle, sequencer
    from audit.models import Checkpoint, LedgerEntry, SequencerState, node_key
    from compliance.models import ModelVersion

    # Entries already there (the governance events of creating the model and its version) are
    # unsequenced: they become the first leaves, the n predictions follow them.
    base = LedgerEntry.objects.count()
    if base and LedgerEntry.objects.order_by("-id").values_list("id", flat=True)[0] != base:
        sys.exit("build_ledger needs entry ids 1..k already there (use --rebuild)")
    total = base + n
    version = ModelVersion.objects.get(model__slug=MODEL, label=LABEL)
    dsn = env["DATABASE_URL"]
    t0 = time.monotonic()

    def step(name: str, started: float) -> float:
        now = time.monotonic()
        say(f"  {name}: {now - started:.1f} s")
        return now

    # Constraints and secondary indexes are built once at the end, not row by row.
    tables = ["audit_predictionrecord", "audit_sensitiveattributes", "audit_leaf"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        saved = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) AND contype IN "
            "('u', 'f') ORDER BY contype DESC",
            [tables],
        ).fetchall()
        indexes = conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) "
            "AND i.indexname NOT IN (SELECT conname FROM pg_constraint)",
            [tables],
        ).fetchall()
        for table, name, _ in reversed(saved):
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
    started = time.monotonic()
    chunk = 500_000
    series = "generate_series({lo}::bigint, {hi}::bigint) AS g"
    entry_sql = (
        "INSERT INTO audit_ledgerentry (id, kind, received_at, canonical, leaf_hash) "
        f"SELECT {base} + g, 'prediction', " + RECEIVED + ", c, sha256('\\x00'::bytea || c) FROM "
        "(SELECT g, convert_to(" + canonical_sql(version.manifest_sha256) + ", 'UTF8') AS c "
        "FROM " + series + ") s"
    )
    _parallel(dsn, [_fill(entry_sql, lo, hi) for lo, hi in _ranges(n, chunk)], jobs)
    started = step(f"audit_ledgerentry: {n:,} canonical entries and leaf hashes", started)
    record_sql = (
        "INSERT INTO audit_predictionrecord (id, entry_id, event_id, version_id, decided_at, "
        "received_at, environment, score, favourable, schema_violation, unapproved_version, "
        f"content_sha256) SELECT g, {base} + g, {EVENT_ID}, {version.pk}, {DECIDED}, {RECEIVED}, "
        f"'production', {SCORE}, {SCORE} >= 0.5, false, true, "
        f"encode(sha256(convert_to({HEX} || 'content', 'UTF8')), 'hex') FROM " + series
    )
    sensitive_sql = (
        "INSERT INTO audit_sensitiveattributes (prediction_id, values, salt) SELECT g, "
        f"jsonb_build_object('sex', {SEX}, 'age_band', {AGE_BAND}), "
        f"decode({HEX}, 'hex') FROM " + series
    )
    leaf_sql = "INSERT INTO audit_leaf (index, entry_id) SELECT g - 1, g FROM " + series
    batches = {
        "audit_predictionrecord": _ranges(n, chunk * 2),
        "audit_sensitiveattributes": _ranges(n, chunk * 2),
        "audit_leaf": _ranges(total, chunk * 2),
        "audit_treenode level 0": _ranges(total, chunk * 2),
    }
    node0_sql = (
        "INSERT INTO audit_treenode (key, hash) SELECT id - 1, leaf_hash FROM audit_ledgerentry "
        "WHERE id BETWEEN {lo} AND {hi}"
    )
    for name, sql in (
        ("audit_predictionrecord", record_sql),
        ("audit_sensitiveattributes", sensitive_sql),
        ("audit_leaf", leaf_sql),
        ("audit_treenode level 0", node0_sql),
    ):
        _parallel(dsn, [_fill(sql, lo, hi) for lo, hi in batches[name]], jobs)
        started = step(name, started)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        count, level = total, 0
        while count >= 2:
            lo = node_key(level, 0)
            conn.execute(
                "INSERT INTO audit_treenode (key, hash) "
                "SELECT %s | ((key & %s) >> 1), sha256('\\x01'::bytea || hash || nxt) FROM "
                "(SELECT key, hash, lead(hash) OVER (ORDER BY key) AS nxt FROM audit_treenode "
                "WHERE key >= %s AND key < %s) s WHERE key & 1 = 0 AND nxt IS NOT NULL",
                [node_key(level + 1, 0), (1 << 48) - 1, lo, lo + count],
            )
            count //= 2
            level += 1
        started = step(f"audit_treenode levels 1..{level}", started)
    jobs_sql = [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {d}' for table, name, d in saved]
    unique = [s for s in jobs_sql if "FOREIGN KEY" not in s]
    foreign = [s for s in jobs_sql if "FOREIGN KEY" in s]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for statement in unique + [d for _, d in indexes] + foreign:
            conn.execute(statement)
        for table, last in (("audit_ledgerentry", total), ("audit_predictionrecord", n)):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [last])
        conn.execute("VACUUM ANALYZE")
    started = step("constraints, indexes, VACUUM ANALYZE", started)

    # The sequencer's state and signed checkpoints, as if it had sealed n entries in 8 rounds.
    sizes = sorted({max(1, total * k // 8) for k in range(1, 9)})
    needed = {node for size in sizes for node in merkle.perfect_nodes(0, size)}
    keys = {node_key(level, index): (level, index) for level, index in needed}
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, hash FROM audit_treenode WHERE key = ANY(%s)", [list(keys)])
        nodes = {keys[key]: bytes(h) for key, h in cursor.fetchall()}
    for size in sizes:
        frontier = merkle.Frontier.from_nodes(size, nodes)
        sequencer.issue_checkpoint(size, frontier.root())
    state, _ = SequencerState.objects.get_or_create(pk=1)
    state.tree_size = total
    state.frontier = merkle.Frontier.from_nodes(total, nodes).to_dict()
    state.watermark_id = total
    state.save()
    step(f"sequencer state and {Checkpoint.objects.count()} signed checkpoints", started)
    say(f"  built {n:,} entries in {time.monotonic() - t0:.0f} s")


def check_built(n: int) -> None:
    """Sampled entries are RFC 8785 canonical; the tree's root matches a recomputation."""
    import rfc8785

    from audit import merkle
    from audit.models import Checkpoint, LedgerEntry, TreeNode, node_key

    sample = random.Random(7).sample(range(1, n + 1), min(n, 500))
    rows = LedgerEntry.objects.filter(prediction__pk__in=sample).values_list(
        "canonical", "leaf_hash"
    )
    for canonical, leaf in rows:
        canonical = bytes(canonical)
        if rfc8785.dumps(json.loads(canonical)) != canonical:
            sys.exit(f"not RFC 8785 canonical: {canonical[:200]!r}")
        if merkle.leaf_hash(canonical) != bytes(leaf):
            sys.exit("leaf hash mismatch")
    small = 1 << min(12, n.bit_length() - 1)
    leaves = [
        bytes(h)
        for h in TreeNode.objects.filter(key__lt=small)
        .order_by("key")
        .values_list("hash", flat=True)
    ]
    top = TreeNode.objects.get(key=node_key(small.bit_length() - 1, 0))
    if merkle.root_from_leaf_hashes(leaves) != bytes(top.hash):
        sys.exit("the Merkle tree built in SQL does not match audit.merkle")
    first = Checkpoint.objects.order_by("tree_size").first()
    say(
        f"  checked: {len(rows)} sampled entries are RFC 8785 canonical and hash right; "
        f"node {small.bit_length() - 1}/0 recomputes from its {small} leaves; "
        f"smallest checkpoint {first.tree_size:,}"
    )


def ensure_ledger(args, env: dict[str, str]) -> dict[str, str]:
    """The database with ``args.entries`` sequenced entries, built unless already there."""
    fresh = args.rebuild or not database_exists(args)
    keys = prepare(args, env, fresh=fresh)
    from audit.models import SequencerState

    state = SequencerState.objects.filter(pk=1).first()
    if state is None or not args.entries <= state.tree_size <= args.entries + 100:
        if not fresh:  # another size, or a build that did not finish
            from django.db import connections

            connections.close_all()
            keys = prepare(args, env, fresh=True)
        say(f"building {args.entries:,} entries with SQL in {args.db}")
        build_ledger(env, args.entries)
        check_built(args.entries)
    else:
        say(f"reusing {args.db}: {state.tree_size:,} sequenced entries (--rebuild to rebuild)")
    # The API keys ``prepare`` issued are ledger events: seal them as the sequencer would, or
    # verify_ledger rightly names them unsealed a minute later.
    from audit.sequencer import seal_all

    seal_all()
    return keys


# ---------------------------------------------------------------------------- trail


def verify_receipt(receipt: dict) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from audit import merkle, signing
    from audit.canonical import canonical_json

    canonical = base64.b64decode(receipt["canonical"])
    leaf = bytes.fromhex(receipt["leaf_hash"])
    statement = receipt["checkpoint"]["statement"]
    public = signing.signing_key().public_key()
    assert isinstance(public, Ed25519PublicKey)
    public.verify(base64.b64decode(receipt["checkpoint"]["signature"]), canonical_json(statement))
    proof = [bytes.fromhex(h) for h in receipt["inclusion_proof"]]
    ok = merkle.leaf_hash(canonical) == leaf and merkle.verify_inclusion(
        leaf,
        receipt["leaf_index"],
        statement["tree_size"],
        proof,
        bytes.fromhex(statement["root_hash"]),
    )
    return (
        f"receipt of leaf {receipt['leaf_index']:,}: signature OK, {len(proof)}-hash inclusion "
        f"proof against tree size {statement['tree_size']:,} -> {'VERIFIES' if ok else 'FAILS'}"
    )


def cmd_trail(args) -> None:
    env = bench_env(args)
    keys = ensure_ledger(args, env)
    from audit.models import PredictionRecord

    rng = random.Random(args.seed)
    ids = [rng.randint(1, args.entries) for _ in range(args.requests + 50)]
    events = dict(PredictionRecord.objects.filter(pk__in=ids).values_list("pk", "event_id"))
    paths = [f"/api/v1/predictions/{events[i]}/trail/" for i in ids if i in events]
    workers, threads = server_configs(args)[0]
    with gunicorn(env, args.port, workers, threads):
        client = Client(args.port, keys["auditor"])
        status, body = client.request("GET", paths[0])
        if status != 200:
            sys.exit(f"trail answered {status}: {body[:300]!r}")
        trail = json.loads(body)
        say(f"  {verify_receipt(trail['receipt'])}")
        for path in paths[:50]:  # warm-up: every worker imports and connects
            client.request("GET", path)
        latencies = []
        for path in paths[50:]:
            t = time.perf_counter()
            status, body = client.request("GET", path)
            latencies.append(time.perf_counter() - t)
            if status != 200:
                sys.exit(f"trail answered {status}: {body[:300]!r}")
    median, p99 = statistics.median(latencies), pct(latencies, 99)
    say(
        f"trail among {args.entries:,} entries (gthread -w {workers} --threads {threads}), "
        f"{len(latencies)} sequential requests of random predictions: median {ms(median)}, "
        f"p90 {ms(pct(latencies, 90))}, p99 {ms(p99)}, max {ms(max(latencies))} "
        f"(target < 50 ms: {verdict(p99 < 0.05)}); response {len(body):,} bytes"
    )


# ---------------------------------------------------------------------------- verify


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
    return seconds, proc.stdout + proc.stderr


def cmd_verify(args) -> None:
    env = bench_env(args)
    ensure_ledger(args, env)
    n = args.entries
    with tempfile.TemporaryDirectory(dir=STATE) as tmp:
        seconds, _ = timed([PYTHON, "manage.py", "export_ledger", tmp], env)
        size = sum(f.stat().st_size for f in Path(tmp).iterdir())
        say(
            f"export_ledger: {n:,} entries ({size / 2**20:,.0f} MiB) in {seconds:.1f} s = "
            f"{n / seconds:,.0f} entries/s"
        )
        export_seconds = seconds
        seconds, out = timed([PYTHON, "-m", "audit.verify", tmp], env)
        say(
            f"python -m audit.verify (standalone, incl. ~0.1 s start-up): {seconds:.1f} s = "
            f"{n / seconds:,.0f} entries/s"
        )
        verify_seconds = seconds
    seconds, out = timed([PYTHON, "manage.py", "verify_ledger"], env)
    rate = n / seconds
    say(
        f"manage.py verify_ledger (export + verify, incl. Django start-up): {seconds:.1f} s = "
        f"{rate:,.0f} entries/s (target >= 100,000/s: {verdict(rate >= 100_000)}); phases: "
        f"export {export_seconds / (export_seconds + verify_seconds):.0%}, verify "
        f"{verify_seconds / (export_seconds + verify_seconds):.0%}"
    )
    say("  " + out.strip().replace("\n", "\n  "))


# ---------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    common.add_argument("--port", type=int, default=8765)
    common.add_argument("--workers", type=int, default=4)
    common.add_argument("--threads", type=int, default=2)
    common.add_argument("--configs", help="several gunicorn configs, e.g. 2x4,4x2,4x4")
    common.add_argument("--duration", type=float, default=20, help="seconds of load")
    commands = {
        "ingest": (cmd_ingest, "attest_bench", "batched ingest over HTTP"),
        "single": (cmd_single, "attest_bench", "one prediction per request (wrk)"),
        "seal": (cmd_seal, "attest_bench", "acknowledged -> sealed in a checkpoint"),
        "trail": (cmd_trail, "attest_bench_trail", "trail among 10 million entries"),
        "verify": (cmd_verify, "attest_bench_verify", "verify_ledger on 1 million entries"),
    }
    for name, (func, db, help_text) in commands.items():
        p = sub.add_parser(name, parents=[common], help=help_text)
        p.set_defaults(func=func)
        p.add_argument("--db", default=db, help="PostgreSQL database (attest_bench*)")
        if name in ("ingest", "seal"):
            p.add_argument("--clients", type=int, default=2, help="load processes")
            p.add_argument("--batch", type=int, default=1000 if name == "ingest" else 20)
        if name == "single":
            p.add_argument("--connections", default="32", help="wrk connections, e.g. 8,32")
            p.add_argument("--wrk-threads", type=int, default=1)
        if name in ("ingest", "single"):
            p.add_argument("--sequencer", action="store_true", help="run_sequencer beside")
        if name in ("ingest", "single", "seal"):
            p.add_argument("--interval", type=float, default=0.2, help="sequencer interval")
        if name == "seal":
            p.add_argument("--rate", type=float, default=100, help="requests/s, all clients")
        if name in ("trail", "verify"):
            default = 10_000_000 if name == "trail" else 1_000_000
            p.add_argument("--entries", type=int, default=default)
            p.add_argument("--rebuild", action="store_true")
        if name == "trail":
            p.add_argument("--requests", type=int, default=2000)
            p.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
