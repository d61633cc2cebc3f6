"""Running a report: immutable evidence, a ledger event, one alert and one finding per breach."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading

import pytest
from django.core import mail

from audit.appendonly import AppendOnlyError
from audit.canonical import canonical_sha256
from audit.models import Alert, GovernanceEvent
from compliance.models import Finding, ModelVersion, MonitoringReport, ReportSchedule
from compliance.reports import run_report
from tests.compliance.test_report_scenarios import END, START, log


@pytest.fixture
def biased(version):
    version.baselines = {"selection_rate": {"overall": 0.5, "by_group": {}}}
    version.save()
    ModelVersion.objects.filter(pk=version.pk).update(state="approved")
    version.refresh_from_db()
    rows = [("M", i % 10 < 6, None, 0.6) for i in range(300)]
    rows += [("F", i % 10 < 3, None, 0.3) for i in range(300)]  # impact ratio 0.5
    log(version, rows)
    return version


def fairness_only(model) -> ReportSchedule:
    return ReportSchedule.objects.create(
        model=model,
        checks=["fairness"],
        attributes=["sex"],
        window_days=7,
        thresholds={"approval_rate_change_max": 1.0, "demographic_parity_difference_max": 0.5},
    )


def test_a_report_is_stored_hashed_and_recorded_in_the_ledger(biased):
    (report,) = run_report(
        biased.model, start=START, end=END, schedule=fairness_only(biased.model), n_bootstrap=0
    )
    assert report.content_sha256 == canonical_sha256(report.content())
    assert report.passed is False
    assert report.results["counts"]["predictions"] == 600
    event = GovernanceEvent.objects.get(event_type="report.completed")
    assert event.after["sha256"] == report.content_sha256
    assert event.after["breaches"] == ["fairness:impact_ratio:sex=F"]


def test_a_breach_raises_one_alert_and_opens_one_finding_however_many_runs(
    biased, django_capture_on_commit_callbacks
):
    schedule = fairness_only(biased.model)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            run_report(biased.model, start=START, end=END, schedule=schedule, n_bootstrap=0)
    alert = Alert.objects.get(kind="fairness_breach")
    assert alert.occurrences == 2 and "four-fifths" in alert.message
    finding = Finding.objects.get(version=biased)
    assert finding.owner == biased.model.business_owner
    assert finding.severity == "high" and "sex=F" in finding.title
    assert MonitoringReport.objects.count() == 2


def test_the_model_owner_is_emailed_once_per_breach_not_per_run(
    biased, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    schedule = fairness_only(biased.model)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            run_report(biased.model, start=START, end=END, schedule=schedule, n_bootstrap=0)
    assert len(mail.outbox) == 1


def test_the_owner_gets_an_email_and_the_webhook_a_post(
    biased, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.ALERT_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/hook"
    with django_capture_on_commit_callbacks(execute=True):
        run_report(
            biased.model, start=START, end=END, schedule=fairness_only(biased.model), n_bootstrap=0
        )
    server.shutdown()
    assert [m.to for m in mail.outbox] == [["rita@example.org"]]
    assert "four-fifths" in mail.outbox[0].body
    assert received[0]["key"] == "fairness:impact_ratio:sex=F"


def test_a_report_cannot_be_changed_or_deleted(biased):
    (report,) = run_report(biased.model, start=START, end=END, n_bootstrap=0)
    report.passed = True
    with pytest.raises(AppendOnlyError):
        report.save()
    with pytest.raises(AppendOnlyError):
        MonitoringReport.objects.all().delete()


def test_a_window_with_no_predictions_produces_no_report(biased):
    later = END + dt.timedelta(days=30)
    assert run_report(biased.model, start=later, end=later + dt.timedelta(days=1)) == []


def test_a_window_that_ends_before_it_starts_is_refused(biased):
    with pytest.raises(ValueError, match="must start before it ends"):
        run_report(biased.model, start=END, end=START)
