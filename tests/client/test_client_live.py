"""The Python client against the real Attest server: nothing lost, nothing stored twice."""

from __future__ import annotations

import pytest

from attest_client import AttestClient
from audit.models import OutcomeRecord, PredictionRecord
from compliance.choices import KeyAction
from compliance.keys import issue_key
from tests.audit.conftest import log_through

LOG_PREDICTIONS, LOG_OUTCOMES = KeyAction.LOG_PREDICTIONS, KeyAction.LOG_OUTCOMES

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_client_logs_predictions_and_outcomes_to_a_live_server(live_server, service, version):
    _, key = issue_key(
        user=service, models=[version.model], actions=[LOG_PREDICTIONS, LOG_OUTCOMES], name="live"
    )
    with AttestClient(live_server.url, key, batch_size=40, flush_interval=0.05) as client:
        ids = []
        for _ in range(150):
            ids.append(log_through(client))
        for event_id in ids[:50]:
            client.log_outcome(event_id=event_id, outcome={"label": 1})
        assert client.flush(timeout=60)
        stats = client.stats
    assert stats.acknowledged == 200 and stats.rejected == 0 and stats.dropped == 0
    assert PredictionRecord.objects.count() == 150
    assert OutcomeRecord.objects.count() == 50


def test_refused_items_are_reported_and_the_rest_stored(live_server, service, version):
    _, key = issue_key(
        user=service, models=[version.model], actions=[LOG_PREDICTIONS, LOG_OUTCOMES], name="live"
    )
    with AttestClient(live_server.url, key, batch_size=10, flush_interval=0.05) as client:
        client.log_prediction(
            model="credit-scoring",
            version="1.0.0",
            inputs={"income": 1.0},
            output={"score": 0.5, "decision": 1},
        )
        client.log_prediction(
            model="credit-scoring",
            version="9.9.9",
            inputs={"income": 1.0},
            output={"score": 0.5, "decision": 1},
        )
        client.flush(timeout=30)
        rejected = client.rejected
    assert PredictionRecord.objects.count() == 1
    assert len(rejected) == 1 and "9.9.9" in str(rejected[0].errors)


def test_the_client_waits_out_a_429_as_retry_after_says_and_loses_nothing(
    live_server, service, version, settings
):
    settings.API_KEY_RATE_LIMIT = 2
    settings.API_KEY_RATE_WINDOW = 1
    _, key = issue_key(user=service, models=[version.model], actions=[LOG_PREDICTIONS])
    with AttestClient(live_server.url, key, batch_size=1, flush_interval=0.01) as client:
        for _ in range(6):
            log_through(client)
        assert client.flush(timeout=60)
        stats = client.stats
    assert stats.retries > 0 and stats.acknowledged == 6 and stats.rejected == 0
    assert PredictionRecord.objects.count() == 6
