"""Fuzz the API against its own OpenAPI schema with schemathesis.

Run by .ci/run with the Python of .ci/.venv (schemathesis and hypothesis pinned in
.ci/requirements.txt, apart from the project's dependencies). It migrates a throwaway database
(SQLite, or with ``--database-url`` a PostgreSQL database it drops and creates afresh: CI runs
both, since NUL characters fail only on PostgreSQL), seeds a risk officer and a service account
with API keys, serves the project with gunicorn and production settings, and lets schemathesis
send valid and invalid requests to every operation as the risk officer, then to ingest as the
service account (a risk officer may not log): no answer may be a 500, every status must be
documented, every body must match the schema.
Besides what the schema allows, ``.ci/fuzz_hooks.py`` sends NUL characters, lone surrogates,
integers beyond ±2**53 and deep nesting in bodies, query strings and paths.

    .ci/.venv/bin/python .ci/fuzz.py [--max-examples N] [--seed N] [--database-url URL]

``--database-url`` defaults to ``FUZZ_DATABASE_URL``; unset, the run uses SQLite.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
HOOKS = Path(__file__).resolve().parent / "fuzz_hooks.py"
# (user, role, which operations: a regular expression over paths, or None for all)
PERSONAS = [
    ("fuzz-officer", "risk_officer", None),
    ("fuzz-service", "service", r"^/api/v1/(predictions|outcomes)/$"),
]
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]
# Drops and creates the database named by DATABASE_URL (through the server's maintenance db).
FRESH_DATABASE = (
    "import os, psycopg, urllib.parse as u;"
    "url = u.urlsplit(os.environ['DATABASE_URL']); name = url.path.lstrip('/');"
    "c = psycopg.connect(u.urlunsplit(url._replace(path='/postgres')), autocommit=True);"
    "c.execute(f'DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)');"
    "c.execute(f'CREATE DATABASE \"{name}\"')"
)
NEW_SIGNING_KEY = (
    "from cryptography.hazmat.primitives import serialization as s;"
    "from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey as K;"
    "print(K.generate().private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8,"
    " s.NoEncryption()).decode())"
)


def project(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [str(PROJECT_PYTHON), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"fuzz: {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_served(url: str, server: subprocess.Popen) -> None:
    for _ in range(300):
        if server.poll() is not None:
            sys.exit("fuzz: the server did not start")
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"fuzz: {url} did not answer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=25, help="per operation")
    parser.add_argument("--seed", type=int, default=None, help="reproduce an earlier run")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("FUZZ_DATABASE_URL"),
        help="a PostgreSQL database to drop, create and fuzz against (default: SQLite)",
    )
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="attest-fuzz-") as data_dir:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(64),
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="false",
            ATTEST_DATA_DIR=data_dir,
            LOG_LEVEL="ERROR",
        )
        if options.database_url:
            env["DATABASE_URL"] = options.database_url
            project("-c", FRESH_DATABASE, env=env)
        print(f"fuzz: on {'PostgreSQL' if options.database_url else 'SQLite'}", flush=True)
        env["LEDGER_SIGNING_KEY"] = project("-c", NEW_SIGNING_KEY, env=env)
        project("manage.py", "migrate", "-v0", env=env)
        keys = {}
        for user, role, _ in PERSONAS:
            project("manage.py", "create_user", user, "--role", role, env=env)
            keys[user] = project(
                "manage.py",
                "create_api_key",
                "--user",
                user,
                "--all-models",
                "--all-actions",
                env=env,
            ).strip()

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        gunicorn = PROJECT_PYTHON.parent / "gunicorn"
        server_log = Path(data_dir) / "server.log"
        server = subprocess.Popen(
            [str(gunicorn), "compliance.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--log-level", "warning"],
            cwd=ROOT,
            env=env,
            stdout=server_log.open("w"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_until_served(f"{url}/api/schema/", server)
            returncode = 0
            for user, _, paths in PERSONAS:
                print(f"fuzz: as {user}, {paths or 'every operation'}", flush=True)
                command = [
                    str(SCHEMATHESIS), "run", f"{url}/api/schema/",
                    "--header", f"Authorization: Api-Key {keys[user]}",
                    "--checks", ",".join(CHECKS),
                    "--max-examples", str(options.max_examples),
                    "--phases", "examples,coverage,fuzzing",
                    # One worker: hypothesis parses lambdas' source with ast, which CPython 3.11
                    # can fail on from two threads at once ("AST constructor recursion depth").
                    "--workers", "1",
                    "--generation-database", "none",
                    "--no-color",
                ]  # fmt: skip
                if paths:
                    command += ["--include-path-regex", paths]
                if options.seed is not None:
                    command += ["--seed", str(options.seed)]
                hooks = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)}
                returncode |= subprocess.run(command, cwd=data_dir, env=hooks).returncode
            if returncode != 0:  # the server's side of the failures (tracebacks of 500s)
                print("fuzz: the server's log ends:", *server_log.read_text().splitlines()[-60:])
            return returncode
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    sys.exit(main())
