"""Tests for attest_client against a real local HTTP server (see conftest.FakeAttestServer)."""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
import uuid
from datetime import UTC, datetime

import pytest

from attest_client import AttestClient, FlushResult


def predict(client: AttestClient, i: int = 0, **kwargs) -> str:
    fields = {
        "model": "credit-scoring",
        "version": "1.0.0",
        "inputs": {"income": 1000 + i},
        "output": {"score": 0.5, "decision": i % 2},
        **kwargs,
    }
    return client.log_prediction(**fields)


def test_batching_sends_fewer_requests_than_items(server, make_client):
    client = make_client(server.url, batch_size=10, flush_interval=60)
    ids = [predict(client, i) for i in range(35)]
    result = client.flush(timeout=5)
    # A full batch may be sent and acknowledged before flush() starts waiting, so the flush
    # counts only what was still pending then; the client's stats count all 35.
    assert (result.ok, result.remaining, result.rejected) == (True, 0, 0)
    assert 5 <= result.acknowledged <= 35
    assert set(server.predictions) == set(ids)
    assert len(server.requests) == 4  # 10 + 10 + 10 + 5
    assert max(n for _, n, _ in server.requests) == 10
    stats = client.stats
    assert (stats.acknowledged, stats.pending, stats.requests, stats.retries) == (35, 0, 4, 0)


def test_batch_sent_when_batch_size_reached_or_interval_elapsed(server, make_client):
    client = make_client(server.url, batch_size=5, flush_interval=0.2)
    for i in range(5):
        predict(client, i)
    deadline = time.monotonic() + 2
    while len(server.predictions) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(server.predictions) == 5
    predict(client, 99)  # below batch_size: goes out after flush_interval, without flush()
    while len(server.predictions) < 6 and time.monotonic() < deadline + 2:
        time.sleep(0.01)
    assert len(server.predictions) == 6


def test_payload_fields_and_headers(server, make_client):
    client = make_client(server.url)
    decided = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    eid = predict(client, sensitive={"sex": "F"}, context={"request_id": "r1"}, decided_at=decided)
    predict(client, 1)
    assert client.flush(timeout=5).ok
    stored = server.predictions[eid]
    assert stored["decided_at"] == "2024-05-01T12:00:00Z"
    assert stored["sensitive"] == {"sex": "F"} and stored["context"] == {"request_id": "r1"}
    assert "explanation" not in stored and "subject_id" not in stored
    other = next(p for k, p in server.predictions.items() if k != eid)
    assert datetime.fromisoformat(other["decided_at"]).tzinfo is not None  # default: now, UTC


def test_the_data_subject_is_named_when_given(server, make_client):
    client = make_client(server.url)
    eid = predict(client, subject_id="customer-4711")
    assert client.flush(timeout=5).ok
    assert server.predictions[eid]["subject_id"] == "customer-4711"


def test_item_content_frozen_at_call_time(server, make_client):
    client = make_client(server.url, flush_interval=60)
    inputs = {"income": 1}
    eid = client.log_prediction(model="m", version="1", inputs=inputs, output={"y": 1})
    inputs["income"] = 2  # caller mutates its dict after logging
    assert client.flush(timeout=5).ok
    assert server.predictions[eid]["inputs"] == {"income": 1}


def test_stale_keep_alive_connection_is_reopened_without_backoff(server, make_client):
    server.drop_idle_connections = True
    client = make_client(server.url, flush_interval=60)
    ids = []
    for i in range(3):
        ids.append(predict(client, i))
        assert client.flush(timeout=5).ok
    assert sorted(server.predictions) == sorted(ids)
    assert client.stats.retries == 0 and client.stats.requests == 3


def test_503_with_retry_after_is_retried_and_honoured(server, make_client):
    server.fail_next = [(503, {"Retry-After": "0.1"}, {"detail": "busy"})] * 2
    client = make_client(server.url)
    ids = [predict(client, i) for i in range(3)]
    start = time.monotonic()
    assert client.flush(timeout=5).ok
    assert time.monotonic() - start >= 0.2
    assert set(server.predictions) == set(ids)
    assert server.statuses() == [503, 503, 201]
    assert client.stats.retries == 2


def test_lost_responses_are_retried_idempotently(server, make_client):
    server.store_then_fail = 2  # stored, but the client sees 503 twice
    server.fail_next = [(500, {}, {"detail": "boom"}), (429, {}, {"detail": "slow down"})]
    client = make_client(server.url, batch_size=100)
    ids = [predict(client, i) for i in range(20)]
    assert client.flush(timeout=5).ok
    assert sorted(server.predictions) == sorted(ids)  # exactly one stored copy each
    assert server.statuses() == [500, 429, 503, 503, 201]
    stats = client.stats
    assert (stats.acknowledged, stats.duplicates, stats.sent) == (20, 20, 100)
    assert client.rejected == []


def test_server_down_then_up_everything_arrives_once(server, make_client):
    server.stop()  # connection refused
    client = make_client(server.url)
    ids = [predict(client, i) for i in range(10)]
    assert client.flush(timeout=0.3) == FlushResult(False, 10, 0, 0)
    assert client.stats.retries >= 2 and client.stats.pending == 10
    server.start()  # same port
    ids += [predict(client, i) for i in range(10, 15)]
    assert client.flush(timeout=5) == FlushResult(True, 0, 15, 0)
    assert sorted(server.predictions) == sorted(ids)


def test_buffer_overflow_drops_newest_and_counts(server, make_client, caplog):
    server.stop()
    client = make_client(server.url, max_buffer=5)
    with caplog.at_level(logging.WARNING, logger="attest_client"):
        ids = [predict(client, i) for i in range(8)]  # never raises
    assert client.stats.dropped == 3 and client.stats.pending == 5
    drop_warnings = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert len(drop_warnings) == 1  # rate-limited
    server.start()
    assert client.flush(timeout=5).ok
    assert sorted(server.predictions) == sorted(ids[:5])  # the oldest five were kept


def test_400_items_are_rejected_and_the_rest_stored(server, make_client, caplog):
    client = make_client(server.url, flush_interval=60)
    good = [predict(client, i) for i in range(4)]
    bad = predict(client, 4, model="unknown-model")
    good.append(predict(client, 5))
    with caplog.at_level(logging.WARNING, logger="attest_client"):
        result = client.flush(timeout=5)
    assert result == FlushResult(True, 0, 5, 1)
    assert sorted(server.predictions) == sorted(good)
    [rejected] = client.rejected
    assert (rejected.kind, rejected.id, rejected.status) == ("predictions", bad, 400)
    assert rejected.item["model"] == "unknown-model"
    assert "Unknown model" in json.dumps(rejected.errors)
    assert client.stats.rejected == 1
    assert any(bad in r.getMessage() and "Unknown model" in r.getMessage() for r in caplog.records)
    assert server.statuses() == [400, 201]  # the bad item is not retried


def test_409_conflict_is_rejected_and_the_rest_stored(server, make_client):
    eid = str(uuid.uuid4())
    server.predictions[eid] = {"event_id": eid, "model": "m", "other": "content"}
    client = make_client(server.url, flush_interval=60)
    good = [predict(client, 0), predict(client, 1, event_id=eid), predict(client, 2)]
    del good[1]
    assert client.flush(timeout=5) == FlushResult(True, 0, 2, 1)
    assert set(server.predictions) == {eid, *good}
    assert server.predictions[eid]["other"] == "content"  # not overwritten
    assert [(r.id, r.status) for r in client.rejected] == [(eid, 409)]


def test_400_without_error_index_is_bisected(server, make_client):
    server.fail_next = [(400, {}, {"detail": "bad batch"})] * 3  # 4 items -> 2+2 -> 1+1
    client = make_client(server.url, flush_interval=60)
    ids = [predict(client, i) for i in range(4)]
    assert client.flush(timeout=5) == FlushResult(True, 0, 3, 1)
    assert [r.id for r in client.rejected] == ids[:1]
    assert sorted(server.predictions) == sorted(ids[1:])


def test_413_splits_the_batch(server, make_client):
    server.max_items = 4
    client = make_client(server.url, batch_size=16, flush_interval=60)
    ids = [predict(client, i) for i in range(16)]
    assert client.flush(timeout=5) == FlushResult(True, 0, 16, 0)
    assert sorted(server.predictions) == sorted(ids)
    assert 413 in server.statuses()
    assert max(n for _, n, status in server.requests if status == 201) <= 4


def test_401_logged_once_items_kept_until_key_fixed(server, make_client, caplog):
    server.api_key = "rotated-key"
    client = make_client(server.url)
    with caplog.at_level(logging.ERROR, logger="attest_client"):
        ids = [predict(client, i) for i in range(3)]
        assert not client.flush(timeout=0.4).ok
    assert server.statuses().count(401) >= 3
    assert len([r for r in caplog.records if "HTTP 401" in r.getMessage()]) == 1
    assert client.stats.pending == 3 and client.rejected == []
    server.api_key = "test-key"  # the operator fixes the server-side key
    assert client.flush(timeout=5).ok
    assert sorted(server.predictions) == sorted(ids)


def test_outcomes_sent_after_their_predictions(server, make_client):
    server.stop()
    client = make_client(server.url)
    pairs = []
    for i in range(5):
        eid = predict(client, i)
        pairs.append((eid, client.log_outcome(event_id=eid, outcome={"label": i % 2})))
    corrected = client.log_outcome(event_id=pairs[0][0], outcome={"label": 0}, corrects=pairs[0][1])
    server.start()
    assert client.flush(timeout=5) == FlushResult(True, 0, 11, 0)
    assert {o["event_id"] for o in server.outcomes.values()} == {e for e, _ in pairs}
    assert server.outcomes[corrected]["corrects"] == pairs[0][1]
    assert "observed_at" in server.outcomes[corrected]


def test_concurrent_callers_all_stored_exactly_once(server, make_client):
    client = make_client(server.url, batch_size=50)
    ids: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        mine = [predict(client, n * 1000 + i) for i in range(250)]
        with lock:
            ids.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert client.flush(timeout=10).ok  # (part of it was acknowledged before the flush)
    assert (client.stats.acknowledged, client.stats.pending) == (2000, 0)
    assert len(ids) == len(set(ids)) == 2000
    assert sorted(server.predictions) == sorted(ids)
    assert sum(n for _, n, status in server.requests if status == 201) == 2000


@pytest.mark.parametrize(
    "kwargs",
    [
        {"inputs": {"x": math.nan}},
        {"output": {"score": math.inf}},
        {"inputs": {"x": object()}},
        {"inputs": [1, 2]},
        {"model": ""},
        {"version": None},
        {"event_id": "not-a-uuid"},
        {"decided_at": datetime(2024, 1, 1)},  # naive
        {"decided_at": "yesterday"},
        {"sensitive": "F"},
        {"explanation": {"shap": [math.nan]}},
    ],
)
def test_invalid_prediction_arguments_raise_value_error(server, make_client, kwargs):
    client = make_client(server.url)
    with pytest.raises(ValueError):
        predict(client, **kwargs)
    assert client.stats.pending == 0


def test_invalid_outcome_and_constructor_arguments(server, make_client):
    client = make_client(server.url)
    eid = str(uuid.uuid4())
    with pytest.raises(ValueError):
        client.log_outcome(event_id="nope", outcome={"label": 1})
    with pytest.raises(ValueError):
        client.log_outcome(event_id=eid, outcome={"label": math.nan})
    with pytest.raises(ValueError):
        client.log_outcome(event_id=eid, outcome={"label": 1}, corrects="x")
    for bad in ({"batch_size": 0}, {"max_buffer": -1}, {"timeout": 0}):
        with pytest.raises(ValueError):
            AttestClient(server.url, api_key="k", register_atexit=False, **bad)
    with pytest.raises(ValueError):
        AttestClient("ftp://example.com", api_key="k", register_atexit=False)


def test_log_never_raises_when_server_down_and_close_is_bounded(server, make_client):
    server.stop()
    client = make_client(server.url, max_buffer=50)
    for i in range(100):
        predict(client, i)
        client.log_outcome(event_id=str(uuid.uuid4()), outcome={"label": 1})
    start = time.monotonic()
    result = client.close(timeout=0.2)
    assert time.monotonic() - start < 2
    assert not result.ok and result.remaining == 50
    predict(client)  # after close: dropped, not raised
    assert client.stats.dropped == 151


def test_context_manager_flushes_on_exit(server):
    with AttestClient(server.url, api_key="test-key", flush_interval=60) as client:
        eid = predict(client)
    assert eid in server.predictions
    assert client.stats.pending == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_client_keeps_working_in_a_forked_child(server, make_client):
    client = make_client(server.url)
    eid = str(uuid.uuid4())
    pid = os.fork()
    if pid == 0:  # child: the parent's sender thread does not exist here
        try:
            predict(client, event_id=eid)
            os._exit(0 if client.flush(timeout=5).ok else 1)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert eid in server.predictions
