"""Real parts for the fault drills: processes of this project, a PostgreSQL cluster of our own.

The drills stop and start PostgreSQL, so they never touch the shared cluster the rest of the
suite runs on: each makes a throwaway cluster (``initdb`` in a temporary directory, run as the
``postgres`` user, on a free port) and points a real server at it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url(settings_dict: dict | None = None) -> str:
    """The URL of a Django database (by default the test database this process uses)."""
    db = settings_dict or connection.settings_dict
    user = f"{db['USER']}:{db['PASSWORD']}" if db.get("PASSWORD") else db["USER"]
    return f"postgres://{user}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def manage_env(**env: str) -> dict[str, str]:
    environ = dict(os.environ)
    environ.update(env)
    return environ


def manage(*args: str, **env: str) -> str:
    """Run ``manage.py`` in its own process; its output, or an error naming what failed."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=manage_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}: {result.stderr[-2000:]}"
    return result.stdout


def start_manage(*args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=manage_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    if process.poll() is None:
        process.send_signal(sig)
    process.wait(30)


def wait_for(condition, what: str, timeout: float = 60.0, every: float = 0.05):
    """Poll ``condition`` until it is truthy (its value), or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post_json(url: str, body, key: str, timeout: float = 30.0) -> tuple[int, dict, dict | None]:
    """POST ``body`` as JSON; (status, headers, decoded body) whatever the status."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
        method="POST",
    )
    return _send(request, timeout)


def get_json(url: str, key: str, timeout: float = 30.0) -> tuple[int, dict, dict | None]:
    request = urllib.request.Request(url, headers={"Authorization": f"Api-Key {key}"})
    return _send(request, timeout)


def _send(request, timeout: float) -> tuple[int, dict, dict | None]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"not json": raw[:200].decode("utf-8", "replace")}
        return error.code, dict(error.headers), body


# ---------------------------------------------------------------------------- PostgreSQL


def _bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)), None
    )
    assert found, f"{name} (PostgreSQL server binaries) is not installed"
    return str(found)


class Cluster:
    """A PostgreSQL cluster of our own, which the drill may stop and start as it likes."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory, self.port = directory, port
        self.data = directory / "data"
        self.url = f"postgres://postgres@127.0.0.1:{port}/attest"

    def _as_postgres(self, *command: str) -> None:
        runner = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*runner, *command], check=True, capture_output=True, timeout=120, cwd="/tmp"
        )

    def create(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._as_postgres(_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust")
        self.start()
        self._as_postgres(
            _bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "attest"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        log = self.directory / "log"
        try:
            self._as_postgres(
                _bin("pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-l", str(log), "start"
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"The drill's PostgreSQL did not start:\n{log.read_text()}") from exc

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def event_ids(self) -> list[str]:
        """Every stored prediction's event id, duplicates included (if there were any)."""
        with psycopg.connect(self.url.replace("postgres://", "postgresql://")) as db:
            rows = db.execute("SELECT event_id::text FROM audit_predictionrecord").fetchall()
        return [event_id for (event_id,) in rows]

    def seal_and_verify(self) -> str:
        manage("seal_ledger", DATABASE_URL=self.url)
        return manage("verify_ledger", DATABASE_URL=self.url)


@contextmanager
def throwaway_cluster():
    """A new cluster, removed afterwards (not under pytest's tmp_path: the postgres user must
    reach it)."""
    port = free_port()  # not a fixed one: anything else on this machine may hold that
    directory = Path(tempfile.mkdtemp(prefix="attest-drill-"))
    cluster = Cluster(directory, port)
    try:
        cluster.create()
        yield cluster
    finally:
        try:
            cluster.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(directory, ignore_errors=True)


# ---------------------------------------------------------------------------- the server

SERVER_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "drill-" + "s" * 60,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "LOG_LEVEL": "ERROR",
}


@contextmanager
def server(database: str):
    """gunicorn serving this project on a free port, against ``database``."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "compliance.wsgi",
            "--bind", f"127.0.0.1:{port}",
            "--workers", "2",
            "--timeout", "60",
            "--log-level", "error",
        ],
        cwd=ROOT,
        env=manage_env(DATABASE_URL=database, **SERVER_ENV),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            urllib.request.urlopen(f"{url}/api/schema/", timeout=5).close()
            return True
        except OSError:
            return False

    try:
        wait_for(answers, "the server to answer", timeout=60, every=0.2)
        yield url
    finally:
        kill(process, signal.SIGTERM)


SEED = """
from tests.audit.drill_support import seed_ingest
print(seed_ingest())
"""


def seed_ingest() -> str:
    """A model, a version and a service account to log for it; returns the account's API key.

    Run inside the server's database by ``manage.py shell``.
    """
    from compliance.choices import KeyAction, Role
    from compliance.keys import issue_key
    from compliance.models import AIModel, ModelVersion
    from tests.conftest import bundle, make_user

    service = make_user("scoring-service", Role.SERVICE)
    developer = make_user("devon", Role.DEVELOPER)
    model = AIModel.objects.create(name="Retail credit scoring", slug="credit-scoring")
    fields = bundle(training_date_from=dt.date(2024, 1, 1), training_date_to=dt.date(2025, 12, 31))
    ModelVersion.objects.create(model=model, created_by=developer, **fields)
    return issue_key(user=service, all_models=True, actions=KeyAction.values, name="drill")[1]


def prepare(database: str) -> str:
    """Migrate ``database`` and seed it for ingest; the service account's API key."""
    manage("migrate", "-v0", DATABASE_URL=database)
    return manage("shell", "-c", SEED, DATABASE_URL=database).strip().splitlines()[-1]
