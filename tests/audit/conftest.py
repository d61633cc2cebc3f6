from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest

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


def log_through(client) -> str:
    """Log a fresh ``prediction()`` through the Python client (which makes the event id and
    the decision time); its event id."""
    item = prediction()
    fields = ("model", "version", "inputs", "output", "sensitive", "context")
    return client.log_prediction(**{name: item[name] for name in fields})


EMAIL = "jane.doe@example.org"
NAME = "Jane Doe"


def personal_prediction(subject_id: str = "customer-4711", **overrides) -> dict:
    """A prediction of ``personal_version`` (2.0.0) carrying the subject's email and name."""
    return prediction(
        version="2.0.0",
        inputs={"income": 52.5, "email": EMAIL, "name": NAME},
        subject_id=subject_id,
        **overrides,
    )


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


# On PostgreSQL the sequencer only seals what other transactions committed (that is its
# guarantee), so tests that seal commit for real there: transactional tests (see
# tests/conftest.py for how their clean-up gets past the append-only triggers).
POSTGRES = bool(os.environ.get("DATABASE_URL"))
committed = pytest.mark.django_db(transaction=POSTGRES, serialized_rollback=POSTGRES)
