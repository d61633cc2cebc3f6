"""Issue #16, hole 11: one bad item must not stop the client.

A prediction carrying ``2**64`` made the server fail the whole batch; the client resent that same
batch forever, so the 50 good predictions logged with it never arrived. Now a refused item is
isolated (by the server's error index, else by bisection, also after repeated 5xx), the rest is
delivered, and the refused item goes to the ``on_rejected`` callback and the dead-letter file with
the server's error. Outages (503, 429, connection errors) are waited out with exponential backoff
and full jitter and refuse nothing; the buffer's bound and overflow policy are counted.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from attest_client import AttestClient
from audit.models import PredictionRecord
from compliance.choices import KeyAction
from compliance.keys import issue_key
from tests.audit.conftest import log_through
from tests.client import conftest as fake

server = fake.server  # the real local HTTP server of the client tests (tests/client/conftest.py)
make_client = fake.make_client

FAST = {"backoff_base": 0.01, "backoff_max": 0.05, "register_atexit": False}


def log_poison(client: AttestClient) -> str:
    """A prediction whose features hold 2**64, beyond what the ledger's canonical JSON takes."""
    return client.log_prediction(
        model="credit-scoring",
        version="1.0.0",
        inputs={"income": 2**64, "age": 41},
        output={"score": 0.81, "decision": 1},
    )


def log_good(client: AttestClient, i: int) -> str:
    return client.log_prediction(
        model="credit-scoring",
        version="1.0.0",
        inputs={"income": 1000.0 + i, "age": 41},
        output={"score": 0.5, "decision": i % 2},
    )


def dead_letters(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def stored_event_ids() -> set[str]:
    return {str(e) for e in PredictionRecord.objects.values_list("event_id", flat=True)}


# ---------------------------------------------------------------- against the real server
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_poison_item_among_50_good_ones_holds_none_of_them_back(live_server, service, version):
    _, key = issue_key(
        user=service, models=[version.model], actions=[KeyAction.LOG_PREDICTIONS], name="poison"
    )
    client = AttestClient(live_server.url, key, batch_size=100, flush_interval=0.05, **FAST)
    try:
        good = [log_through(client) for _ in range(25)]
        poison = log_poison(client)
        good += [log_through(client) for _ in range(25)]
        result = client.flush(timeout=30)
        stats, rejected = client.stats, client.rejected
    finally:
        client.close(timeout=1)
    assert result.ok, result
    assert (stats.acknowledged, stats.rejected, stats.pending) == (50, 1, 0)
    assert stored_event_ids() == set(good)
    [refused] = rejected
    assert refused.id == poison and refused.item["inputs"]["income"] == 2**64
    assert refused.status in (400, 500) and refused.errors


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_poison_item_reaches_the_callback_and_the_dead_letter_file_with_its_error(
    live_server, service, version, tmp_path
):
    _, key = issue_key(
        user=service, models=[version.model], actions=[KeyAction.LOG_PREDICTIONS], name="poison"
    )
    reported = []
    dead_letter = tmp_path / "attest-dead-letter.jsonl"
    client = AttestClient(
        live_server.url,
        key,
        batch_size=100,
        flush_interval=0.05,
        on_rejected=reported.extend,
        dead_letter_path=dead_letter,
        **FAST,
    )
    try:
        good = [log_through(client) for _ in range(50)]
        poison = log_poison(client)
        assert client.flush(timeout=30).ok
        stats = client.stats
    finally:
        client.close(timeout=1)
    assert stored_event_ids() == set(good)
    [refused] = reported
    assert (refused.kind, refused.id, refused.item["event_id"]) == ("predictions", poison, poison)
    assert refused.status in (400, 500) and refused.errors
    [line] = dead_letters(dead_letter)
    assert line["id"] == poison and line["item"]["inputs"]["income"] == 2**64
    assert line["status"] == refused.status and line["errors"] == json.loads(
        json.dumps(refused.errors)
    )
    assert (stats.acknowledged, stats.rejected, stats.dead_lettered) == (50, 1, 1)


# ------------------------------------------------ against a real local HTTP server (scripted)
def test_an_item_the_server_fails_on_every_time_is_bisected_out(server, make_client):
    client = make_client(server.url, batch_size=100, flush_interval=60)
    good = [log_good(client, i) for i in range(50)]
    poison = log_good(client, 50)
    server.poison_ids.add(poison)
    good += [log_good(client, i) for i in range(51, 53)]
    result = client.flush(timeout=10)
    assert (result.ok, result.acknowledged, result.rejected) == (True, 52, 1), result
    assert sorted(server.predictions) == sorted(good)
    [refused] = client.rejected
    assert (refused.id, refused.status, refused.reason) == (poison, 500, "failed")
    assert "Server Error (500)" in str(refused.errors)
    assert server.statuses().count(500) < 30  # bounded retries then bisection, not forever


def test_a_server_failing_every_request_refuses_no_item(server, make_client):
    client = make_client(server.url, batch_size=100, flush_interval=60)
    first = log_good(client, 0)
    assert client.flush(timeout=5).ok  # the server was up just before the outage
    server.fail_next = [(500, {}, {"detail": "database exploded"})] * 60
    ids = [log_good(client, i) for i in range(1, 9)]
    assert not client.flush(timeout=0.3).ok
    assert client.rejected == []  # a server failing for everyone is an outage, not poison
    assert client.flush(timeout=20).ok
    assert sorted(server.predictions) == sorted([first, *ids])
    assert client.rejected == [] and client.stats.rejected == 0


def test_503_backs_off_exponentially_with_full_jitter(server, make_client):
    base, cap, failures = 0.002, 0.2, 20
    server.fail_next = [(503, {}, {"detail": "busy"})] * failures
    client = make_client(server.url, flush_interval=60, backoff_base=base, backoff_max=cap)
    eid = log_good(client, 0)
    assert client.flush(timeout=20).ok
    assert eid in server.predictions and server.statuses() == [503] * failures + [201]
    assert client.stats.retries == failures and client.rejected == []
    gaps = [b - a for a, b in zip(server.arrivals, server.arrivals[1:], strict=False)]
    ceilings = [min(cap, base * 2**k) for k in range(failures)]
    for gap, ceiling in zip(gaps, ceilings, strict=True):
        assert gap <= ceiling + 0.25  # never more than the capped exponential ceiling
    assert sum(gaps[-10:]) > 2 * sum(gaps[:5])  # the delays grow
    # Full jitter draws from [0, ceiling]: some delays fall in the lower half, which the
    # former "equal jitter" ([ceiling / 2, ceiling]) never did.
    assert any(gap < ceiling / 2 for gap, ceiling in zip(gaps[6:], ceilings[6:], strict=True))


def test_a_full_buffer_counts_and_dead_letters_what_it_drops(server, make_client, tmp_path):
    server.stop()
    reported = []
    dead_letter = tmp_path / "dead.jsonl"
    client = make_client(
        server.url, max_buffer=5, on_rejected=reported.extend, dead_letter_path=dead_letter
    )
    ids = [log_good(client, i) for i in range(8)]  # never raises
    stats = client.stats
    assert (stats.pending, stats.dropped, stats.dead_lettered) == (5, 3, 3)
    assert [(r.id, r.reason, r.status) for r in reported] == [(i, "dropped", None) for i in ids[5:]]
    assert [line["id"] for line in dead_letters(dead_letter)] == ids[5:]
    assert dead_letters(dead_letter)[0]["item"]["inputs"] == {"income": 1005.0, "age": 41}
    server.start()
    assert client.flush(timeout=5).ok
    assert sorted(server.predictions) == sorted(ids[:5])


def test_a_full_buffer_with_the_block_policy_waits_for_room(server, make_client):
    server.fail_next = [(503, {"Retry-After": "0.3"}, {"detail": "busy"})]
    client = make_client(server.url, max_buffer=2, batch_size=2, overflow="block")
    ids = [log_good(client, 0), log_good(client, 1)]
    start = time.monotonic()
    ids.append(log_good(client, 2))  # waits until the first two are delivered
    assert time.monotonic() - start >= 0.2
    assert client.flush(timeout=5).ok
    assert sorted(server.predictions) == sorted(ids) and client.stats.dropped == 0


def test_the_block_policy_drops_after_its_timeout(server, make_client, tmp_path):
    server.stop()
    dead_letter = tmp_path / "dead.jsonl"
    client = make_client(
        server.url,
        max_buffer=1,
        overflow="block",
        overflow_timeout=0.2,
        dead_letter_path=dead_letter,
    )
    log_good(client, 0)
    start = time.monotonic()
    dropped = log_good(client, 1)
    assert 0.2 <= time.monotonic() - start < 2
    assert (client.stats.dropped, client.stats.dead_lettered) == (1, 1)
    assert [line["id"] for line in dead_letters(dead_letter)] == [dropped]


def test_a_callback_that_raises_does_not_stop_the_sender(server, make_client, caplog):
    calls = []

    def broken_callback(items):
        calls.append(threading.current_thread().name)
        raise RuntimeError("the operator's callback is broken")

    client = make_client(server.url, flush_interval=60, on_rejected=broken_callback)
    refused = client.log_prediction(model="unknown-model", version="1", inputs={}, output={})
    good = [log_good(client, i) for i in range(3)]
    assert client.flush(timeout=5).ok
    good.append(log_good(client, 3))  # the sender thread still works
    assert client.flush(timeout=5).ok
    assert sorted(server.predictions) == sorted(good)
    assert [r.id for r in client.rejected] == [refused] and calls == ["attest-client"]
    assert client.stats.callback_errors == 1
    assert any("callback" in r.getMessage() for r in caplog.records)


def test_items_still_undelivered_when_close_ends_go_to_the_dead_letter_file(
    server, make_client, tmp_path
):
    server.stop()  # connection refused: the items cannot leave
    dead_letter = tmp_path / "dead.jsonl"
    client = make_client(server.url, dead_letter_path=dead_letter)
    ids = [log_good(client, i) for i in range(3)]
    assert not client.close(timeout=0.2).ok
    lines = dead_letters(dead_letter)
    assert [(line["id"], line["reason"]) for line in lines] == [(i, "undelivered") for i in ids]
    assert lines[0]["item"]["event_id"] == ids[0]
    assert client.stats.dead_lettered == 3
