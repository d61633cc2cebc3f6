"""Fault drills: PostgreSQL goes away under a live server and the Python client.

While the database is down the API answers 503 with Retry-After (never 500) and the client
keeps what it logs; PostgreSQL restarted in the middle of ingest loses and duplicates nothing.
Each drill runs its own PostgreSQL cluster (see drill_support), never the shared one.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest

from attest_client import AttestClient
from tests.audit.conftest import POSTGRES, log_through, prediction
from tests.audit.drill_support import (
    get_json,
    post_json,
    prepare,
    server,
    throwaway_cluster,
    wait_for,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.drill,
    pytest.mark.skipif(not POSTGRES, reason="the drill stops and starts a PostgreSQL cluster"),
]


@pytest.fixture(scope="module")
def cluster():
    """One cluster for the module (per xdist worker); each drill leaves it running."""
    with throwaway_cluster() as cluster:
        cluster.key = prepare(cluster.url)
        yield cluster


def client(url: str, key: str) -> AttestClient:
    return AttestClient(
        url, key, batch_size=50, flush_interval=0.02, backoff_base=0.05, backoff_max=0.5,
        register_atexit=False,
    )  # fmt: skip


def test_with_the_database_down_the_api_answers_503_and_the_client_buffers(cluster):
    with server(cluster.url) as url:
        status, _, _ = post_json(f"{url}/api/v1/predictions/", prediction(), cluster.key)
        assert status == 201  # the server had a live connection to lose
        cluster.stop()

        for status, headers, body in (
            post_json(f"{url}/api/v1/predictions/", prediction(), cluster.key),
            post_json(f"{url}/api/v1/predictions/", [prediction(), prediction()], cluster.key),
            get_json(f"{url}/api/v1/models/", cluster.key),
            get_json(f"{url}/api/v1/predictions/{uuid.uuid4()}/trail/", cluster.key),
            get_json(f"{url}/api/v1/checkpoints/latest/", cluster.key),
        ):
            assert status == 503, body
            assert int(headers["Retry-After"]) > 0
            assert "database is unavailable" in body["detail"]

        attest = client(url, cluster.key)
        logged = [log_through(attest) for _ in range(120)]
        wait_for(lambda: attest.stats.retries >= 2, "the client to retry")
        assert attest.stats.acknowledged == 0 and attest.stats.pending == 120  # kept, not lost
        cluster.start()
        delivered = attest.flush(timeout=60)
        attest.close()

    assert delivered.ok and delivered.acknowledged == 120
    assert attest.stats.rejected == 0 and attest.stats.dropped == 0
    stored = Counter(cluster.event_ids())
    assert set(logged) <= set(stored) and max(stored.values()) == 1
    assert "verified" in cluster.seal_and_verify()


def test_postgres_restarted_in_the_middle_of_ingest_loses_and_duplicates_nothing(cluster):
    restarts, logged, done = 3, [], threading.Event()
    with server(cluster.url) as url:
        attest = client(url, cluster.key)

        def feed() -> None:  # a model service logging on, whatever the database does
            while not done.is_set() and len(logged) < 20_000:
                logged.append(log_through(attest))
                done.wait(0.001)

        feeder = threading.Thread(target=feed)
        feeder.start()
        try:
            for _ in range(restarts):
                target = attest.stats.acknowledged + 200
                wait_for(lambda: attest.stats.acknowledged >= target, "acknowledgements")  # noqa: B023
                cluster.stop("fast")  # ends every session, transactions in flight included
                cluster.start()
        finally:
            done.set()
            feeder.join(30)
        delivered = attest.flush(timeout=90)
        attest.close()

    stats = attest.stats
    assert delivered.ok, delivered
    assert stats.rejected == 0 and stats.dropped == 0
    assert stats.acknowledged == len(logged) >= restarts * 200
    assert stats.retries > 0  # the restarts were felt, and retried through
    stored = Counter(cluster.event_ids())
    assert set(logged) <= set(stored) and max(stored.values()) == 1
    assert "verified" in cluster.seal_and_verify()
    print(
        f"drill: {restarts} PostgreSQL restarts under ingest, {len(logged)} predictions, "
        f"{stats.retries} retried requests, {stats.duplicates} idempotent duplicates"
    )
