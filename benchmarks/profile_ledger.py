"""Where the time of the ledger's hot paths goes: cProfile, grouped into named costs.

    .venv/bin/python benchmarks/profile_ledger.py ingest   # ingest_predictions(1,000 items)
    .venv/bin/python benchmarks/profile_ledger.py single   # one POST through Django + DRF
    .venv/bin/python benchmarks/profile_ledger.py trail    # one GET trail (needs ledger.py trail)

``ingest`` calls ``audit.ingest.ingest_predictions`` directly with batches of 1,000 realistic
predictions (the generator of ``ledger.py``) on a fresh ``attest_bench_profile`` database;
``single`` and ``trail`` send requests through Django's WSGI handler in-process (the same
middleware, DRF, API-key authentication and views gunicorn runs, without the socket), with the
production settings of ``ledger.py``. Each prints wall time per call, the share of named costs
(inclusive times of the functions that implement them, so nested ones overlap: "SQL" includes
the commit) and the top functions by own time. ``--save FILE`` keeps the raw pstats.

For the running server, sample the gunicorn workers with py-spy while ``ledger.py`` loads them
and group the collapsed stacks the same way:

    .venv/bin/py-spy record --format raw -o /tmp/ingest.txt --subprocesses --duration 15 \
        --pid <gunicorn master pid> &
    .venv/bin/python benchmarks/profile_ledger.py collapsed /tmp/ingest.txt
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ledger  # noqa: E402  (benchmarks/ledger.py)

# name -> predicate on (file, line, function) of a profiled function; its inclusive time counts.
COSTS = {
    "HTTP request total (WSGI handler)": lambda f, n: n == "__call__" and "wsgi.py" in f,
    "DRF request parsing (StrictJSONParser: json.loads)": lambda f, n: (
        n == "parse" and "audit/api/views.py" in f
    ),
    "API key authentication (incl. its SELECT)": lambda f, n: (
        n == "authenticate" and "compliance/api/authentication.py" in f
    ),
    "permission check (user.has_perms: 2 SELECTs)": lambda f, n: (
        n == "has_permission" and "compliance/api/permissions.py" in f
    ),
    "ingest_predictions total": lambda f, n: n == "ingest_predictions" and "audit/ingest" in f,
    "  validation (_check_prediction, incl. content hash)": lambda f, n: n == "_check_prediction",
    "  RFC 8785 canonicalisation (rfc8785.dumps)": lambda f, n: n == "dumps" and "rfc8785" in f,
    "  JSON Schema validation (iter_errors)": lambda f, n: n == "iter_errors" and "jsonschema" in f,
    "  schema_validator cache key (canonical_json of the schema)": lambda f, n: (
        n == "_validator_for"
    ),
    "  timestamp parsing (parse_datetime)": lambda f, n: n == "parse_datetime",
    "  UUID parsing (_uuid)": lambda f, n: n == "_uuid",
    "  NaN check (_finite)": lambda f, n: n == "_finite",
    "  SHA-256 (hashlib)": lambda f, n: "sha256" in n and "built-in" in f,
    "  os.urandom (salts)": lambda f, n: "urandom" in n,
    "  model instances (Model.__init__)": lambda f, n: (
        n == "__init__" and f.endswith("django/db/models/base.py")
    ),
    "  bulk_create (SQL building + INSERT)": lambda f, n: (
        n == "bulk_create" and "django/db/models/query.py" in f
    ),
    "  raise_alert (SELECT FOR UPDATE + UPDATE)": lambda f, n: n == "raise_alert",
    "  version lookup (_versions)": lambda f, n: n == "_versions",
    "SQL: psycopg execute (all statements)": lambda f, n: (
        n in ("execute", "executemany") and "psycopg/cursor.py" in f
    ),
    "SQL: commit (WAL flush, fsync)": lambda f, n: n == "commit" and "psycopg/connection.py" in f,
    "response rendering (JSONRenderer)": lambda f, n: (
        n == "render" and "rest_framework/renderers.py" in f
    ),
    "trail: prediction_trail": lambda f, n: n == "prediction_trail",
    "trail: receipt (leaf, checkpoint, proof nodes)": lambda f, n: (
        n == "receipt" and "audit/sequencer.py" in f
    ),
    "trail: ModelVersionSerializer(...).data": lambda f, n: (
        n == "data" and "rest_framework/serializers.py" in f
    ),
}


def report(profile: cProfile.Profile, calls: int, wall: list[float], save: str | None) -> None:
    stats = pstats.Stats(profile)
    if save:
        stats.dump_stats(save)
    total = sum(tt for (_, _, _), (_, _, tt, _, _) in stats.stats.items())
    print(
        f"wall per call: median {statistics.median(wall) * 1000:.1f} ms "
        f"(min {min(wall) * 1000:.1f} ms) over {len(wall)} calls; profiled CPU+wait per call "
        f"{total / calls * 1000:.1f} ms (cProfile adds overhead; read the shares)"
    )
    print(f"{'named cost (inclusive)':62} {'ms/call':>8} {'share':>6}")
    for name, match in COSTS.items():
        ct = sum(
            st[3] for (file, _, func), st in stats.stats.items() if match(file, func)
        )  # inclusive time; recursion is counted once by cProfile
        if ct:
            print(f"{name:62} {ct / calls * 1000:8.2f} {ct / total:6.1%}")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(18)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    print("top functions by own time:")
    for line in lines[start : start + 19]:
        print("  " + line.replace(str(ledger.ROOT) + "/", "")[:150])


def profile_ingest(args) -> None:
    from audit.ingest import ingest_predictions

    rng = random.Random(5)
    decided = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    batches = [
        [ledger.prediction(rng, decided) for _ in range(args.batch)]
        for _ in range(2 * args.rounds + 2)
    ]
    for batch in batches[:2]:  # warm: connection, validator cache, imports
        ingest_predictions(json.loads(json.dumps(batch)))
    plain = []
    for batch in batches[2 + args.rounds :]:  # without the profiler's overhead
        batch = json.loads(json.dumps(batch))
        t = time.perf_counter()
        ingest_predictions(batch)
        plain.append(time.perf_counter() - t)
    profile, wall = cProfile.Profile(), []
    for batch in batches[2 : 2 + args.rounds]:
        batch = json.loads(json.dumps(batch))
        t = time.perf_counter()
        profile.enable()
        ingest_predictions(batch)
        profile.disable()
        wall.append(time.perf_counter() - t)
    print(f"ingest_predictions, batches of {args.batch}:")
    report(profile, args.rounds, wall, args.save)
    per = statistics.median(plain)
    print(
        f"=> without the profiler: median {per * 1000:.0f} ms per batch, one process, no HTTP: "
        f"{args.batch / per:,.0f} predictions/s"
    )


def wsgi_client(key: str):
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Api-Key {key}", SERVER_NAME="127.0.0.1")


def profile_requests(args, key: str, requests: list[tuple[str, str, bytes | None]]) -> None:
    client = wsgi_client(key)

    def send(method: str, path: str, body: bytes | None):
        if method == "POST":
            return client.post(path, body, content_type="application/json")
        return client.get(path)

    for method, path, body in requests[:20]:
        send(method, path, body)
    if method == "POST":  # each body once: half of the rest without the profiler, half with
        plain, requests = requests[20 : len(requests) // 2], requests[len(requests) // 2 :]
    else:
        plain = requests[20:]
    times = []
    cpu = time.process_time()
    for method, path, body in plain:
        t = time.perf_counter()
        send(method, path, body)
        times.append(time.perf_counter() - t)
    cpu = (time.process_time() - cpu) / len(plain)
    print(
        f"without the profiler: median {statistics.median(times) * 1000:.2f} ms per request, "
        f"of which this process's CPU {cpu * 1000:.2f} ms (the rest: waiting for the database)"
    )
    profile, wall = cProfile.Profile(), []
    for method, path, body in requests[20:-1]:
        t = time.perf_counter()
        profile.enable()
        response = send(method, path, body)
        profile.disable()
        wall.append(time.perf_counter() - t)
        assert response.status_code in (200, 201), response.content[:300]
    report(profile, len(wall), wall, args.save)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        send(*requests[-1])  # not sent before
    print(f"SQL statements of one request: {len(queries)}")
    for query in queries:
        print(f"  {query['time']}s  {query['sql'][:150]}")


def collapsed(path: str) -> None:
    """Shares of the named costs in py-spy's raw (collapsed) output: samples whose stack
    holds a matching frame, over all samples of threads that were running."""
    totals = dict.fromkeys(COSTS, 0)
    own: dict[str, int] = {}
    samples = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = []
        for frame in stack.split(";"):
            name, _, where = frame.partition(" (")
            # py-spy names methods by qualified name (Class.method): keep the last part.
            frames.append((where.rsplit(":", 1)[0], name.strip().rsplit(".", 1)[-1]))
        for cost, match in COSTS.items():
            if any(match(f, fn) for f, fn in frames):
                totals[cost] += n
        leaf = f"{frames[-1][1]} ({frames[-1][0].replace(str(ledger.ROOT) + '/', '')})"
        own[leaf] = own.get(leaf, 0) + n
    print(f"{samples:,} samples in {path}")
    for cost, n in totals.items():
        if n:
            print(f"{cost:62} {n / samples:6.1%}")
    print("top frames by own samples:")
    for leaf, n in sorted(own.items(), key=lambda kv: -kv[1])[:20]:
        print(f"  {n / samples:6.1%}  {leaf[:140]}")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "collapsed":
        collapsed(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["ingest", "single", "trail"])
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", help="default attest_bench_profile (trail: attest_bench_trail)")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--entries", type=int, default=10_000_000, help="trail: its ledger")
    parser.add_argument("--save", help="write the raw pstats here")
    args = parser.parse_args()
    args.db = args.db or ("attest_bench_trail" if args.what == "trail" else "attest_bench_profile")
    env = ledger.bench_env(args)
    if args.what == "trail":
        if not ledger.database_exists(args):
            sys.exit(f"{args.db} does not exist: run benchmarks/ledger.py trail first")
        keys = ledger.prepare(args, env, fresh=False)
        from audit.models import PredictionRecord

        rng = random.Random(3)
        ids = [rng.randint(1, args.entries) for _ in range(args.rounds + 20)]
        events = PredictionRecord.objects.filter(pk__in=ids).values_list("event_id", flat=True)
        requests = [("GET", f"/api/v1/predictions/{e}/trail/", None) for e in events]
        print(f"GET trail among {args.entries:,} entries, as an auditor:")
        profile_requests(args, keys["auditor"], requests)
        return
    keys = ledger.prepare(args, env, fresh=True)
    if args.what == "ingest":
        profile_ingest(args)
    else:
        body = ledger.bodies(9, args.rounds * 10 + 20, 1)
        print("POST one prediction per request, through Django's WSGI handler:")
        profile_requests(args, keys["service"], [("POST", ledger.PREDICTIONS, b) for b in body])


if __name__ == "__main__":
    main()
