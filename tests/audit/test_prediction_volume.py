"""Per-day prediction volumes: counted by the sequencer as it seals, each prediction once, and
recounted from the ledger by ``manage.py rollup_prediction_volume``."""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command

from audit.sequencer import seal_all
from compliance.models import PredictionVolume
from tests.audit.conftest import committed, prediction

pytestmark = committed


def volumes() -> dict[tuple[str, dt.date, str], int]:
    return {
        (v.version.label, v.day, v.environment): v.predictions
        for v in PredictionVolume.objects.select_related("version")
    }


def log(client, *days: int, environment: str = "production") -> None:
    items = [
        prediction(decided_at=f"2026-11-{day:02d}T10:00:00Z", context={"environment": environment})
        for day in days
    ]
    response = client.post("/api/v1/predictions/", items, format="json")
    assert response.status_code == 201, response.content


def test_sealing_counts_each_prediction_once_by_day_and_environment(logging_client):
    log(logging_client, 20, 20, 21)
    assert volumes() == {}  # not sealed yet
    seal_all()
    assert volumes() == {
        ("1.0.0", dt.date(2026, 11, 20), "production"): 2,
        ("1.0.0", dt.date(2026, 11, 21), "production"): 1,
    }
    log(logging_client, 21, 22, environment="shadow")
    log(logging_client, 21)
    seal_all()
    seal_all()  # nothing new: nothing counted twice
    assert volumes() == {
        ("1.0.0", dt.date(2026, 11, 20), "production"): 2,
        ("1.0.0", dt.date(2026, 11, 21), "production"): 2,
        ("1.0.0", dt.date(2026, 11, 21), "shadow"): 1,
        ("1.0.0", dt.date(2026, 11, 22), "shadow"): 1,
    }


def test_the_command_recounts_what_is_sealed_from_the_ledger(logging_client):
    log(logging_client, 20, 21)
    seal_all()
    counted = volumes()
    PredictionVolume.objects.all().delete()
    log(logging_client, 22)  # logged, not sealed: not counted
    call_command("rollup_prediction_volume")
    assert volumes() == counted
