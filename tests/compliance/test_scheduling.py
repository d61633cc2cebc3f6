"""Reports run on schedule: once per due schedule, by cron, by the loop or by Celery workers."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid
from io import StringIO

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import timezone

from audit.ingest import ingest_predictions
from compliance.celery import app
from compliance.models import MonitoringReport, ReportSchedule
from compliance.scheduling import claim_due, run_due
from compliance.tasks import run_due_reports
from tests.audit.conftest import prediction
from tests.compliance.test_report_scenarios import log

NOW = dt.datetime(2026, 11, 7, 12, 0, tzinfo=dt.UTC)  # the window reaches back to Oct 31


@pytest.fixture
def scheduled(version):
    rows = [("M", i % 2 == 0, None, 0.6) for i in range(100)]
    log(version, rows)  # decided from 2026-11-01 00:00 on
    return ReportSchedule.objects.create(
        model=version.model,
        checks=["fairness"],
        window_days=7,
        cadence_hours=24,
        next_run_at=NOW - dt.timedelta(minutes=1),
    )


def test_a_due_schedule_runs_once_and_moves_to_its_next_time(scheduled):
    reports = run_due(NOW)
    assert len(reports) == 1 and reports[0].schedule == scheduled
    assert reports[0].window_end == NOW
    scheduled.refresh_from_db()
    assert scheduled.next_run_at == NOW + dt.timedelta(hours=24)
    assert run_due(NOW + dt.timedelta(hours=1)) == []


def test_a_schedule_that_is_not_due_or_not_active_does_not_run(scheduled):
    assert claim_due(NOW - dt.timedelta(hours=1)) == []
    scheduled.active = False
    scheduled.save()
    assert claim_due(NOW) == []


def test_run_due_reports_is_cron_friendly(scheduled):
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("run_due_reports", stdout=out)
    assert "Ran 1 reports." in out.getvalue()


def test_run_report_runs_a_window_on_demand(scheduled):
    out = StringIO()
    call_command(
        "run_report",
        "--model",
        "credit-scoring",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-02",
        stdout=out,
    )
    assert "credit-scoring 1.0.0 2026-11-01" in out.getvalue()
    report = MonitoringReport.objects.get()
    assert report.requested_by is None and report.results["counts"]["predictions"] == 100


def test_run_report_explains_bad_arguments(scheduled):
    with pytest.raises(CommandError, match="No model 'nope'"):
        call_command("run_report", "--model", "nope")
    with pytest.raises(CommandError, match="not a date"):
        call_command("run_report", "--model", "credit-scoring", "--from", "yesterday")
    with pytest.raises(CommandError, match="must start before it ends"):
        call_command(
            "run_report", "--model", "credit-scoring", "--from", "2026-11-05", "--to", "2026-11-01"
        )


def test_the_schedule_keeps_its_history(scheduled, risk_officer):
    scheduled.thresholds = {"impact_ratio_min": 0.9}
    scheduled._history_user = risk_officer
    scheduled.save()
    assert scheduled.history.count() == 2
    assert scheduled.history.earliest().thresholds == {}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_celery_workers_run_due_reports_over_redis(scheduled):
    recent = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    ingest_predictions([prediction(decided_at=recent) for _ in range(20)])
    ReportSchedule.objects.filter(pk=scheduled.pk).update(next_run_at=timezone.now())
    queue = f"attest-test-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue]):
            claimed = run_due_reports.delay().get(timeout=30)
            assert claimed == [scheduled.pk]
            for _ in range(300):
                with contextlib.suppress(OperationalError):  # SQLite: the worker is writing
                    if MonitoringReport.objects.exists():
                        break
                time.sleep(0.1)
    finally:
        app.conf.task_default_queue = "celery"
    assert MonitoringReport.objects.get().schedule_id == scheduled.pk
