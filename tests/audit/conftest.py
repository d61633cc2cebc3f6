from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
from django.db import connection

from compliance.models import ModelVersion


def prediction(**overrides) -> dict:
    item = {
        "event_id": str(uuid.uuid4()),
        "model": "credit-scoring",
        "version": "1.0.0",
        "decided_at": "2026-11-20T10:15:00Z",
        "inputs": {"income": 52.5, "age": 41},
        "output": {"score": 0.81, "decision": 1},
        "explanation": {"income": 0.12, "age": -0.03},
        "sensitive": {"sex": "F", "age_band": "40-59"},
        "context": {"request_id": "req-1", "channel": "web", "environment": "production"},
    }
    item.update(overrides)
    return item


def outcome(event_id: str, **overrides) -> dict:
    item = {
        "outcome_id": str(uuid.uuid4()),
        "event_id": event_id,
        "outcome": {"label": 1},
        "observed_at": "2026-12-20T09:00:00Z",
    }
    item.update(overrides)
    return item


@pytest.fixture
def logging_client(api, service, version):
    return api.as_(service)


@pytest.fixture
def frozen_version(version) -> ModelVersion:
    ModelVersion.objects.filter(pk=version.pk).update(state="approved")
    version.refresh_from_db()
    return version


def at(day: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, tzinfo=dt.UTC)


# On PostgreSQL the sequencer only takes entries of committed transactions (that is its
# guarantee), so tests that seal must commit for real: transactional tests. Their clean-up
# truncates every table, which the ledger's triggers refuse; as the superuser they are switched
# off for that clean-up only (see ``ledger_cleanup``), and the connection is closed afterwards.
POSTGRES = bool(os.environ.get("DATABASE_URL"))
committed = pytest.mark.django_db(transaction=POSTGRES, serialized_rollback=POSTGRES)


@pytest.fixture(autouse=True)
def ledger_cleanup(request):
    marker = request.node.get_closest_marker("django_db")
    if not (POSTGRES and marker and marker.kwargs.get("transaction")):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
