"""Monitoring in the admin: the risk officer schedules and runs; nobody changes a report."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from compliance.models import MonitoringReport, ReportSchedule
from compliance.reports import run_report
from tests.compliance.test_report_scenarios import END, START, log


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def report(version):
    log(version, [("M", i % 2 == 0, bool(i % 3), 0.6) for i in range(120)])
    (report,) = run_report(version.model, start=START, end=END, n_bootstrap=0)
    return report


def test_the_risk_officer_edits_a_schedule_and_its_history_is_kept(risk_officer, ai_model):
    client = logged_in(risk_officer)
    response = client.post(
        "/admin/compliance/reportschedule/add/",
        {
            "model": ai_model.pk,
            "name": "Daily monitoring",
            "checks": '["fairness", "drift"]',
            "attributes": '["sex"]',
            "window_days": 7,
            "cadence_hours": 24,
            "min_group_size": 30,
            "thresholds": '{"impact_ratio_min": 0.85}',
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[-1500:]
    schedule = ReportSchedule.objects.get()
    assert schedule.effective_thresholds()["impact_ratio_min"] == 0.85
    assert schedule.history.get().history_user == risk_officer


def test_a_bad_threshold_is_refused_with_its_name(risk_officer, ai_model):
    response = logged_in(risk_officer).post(
        "/admin/compliance/reportschedule/add/",
        {"model": ai_model.pk, "name": "x", "checks": '["fairness"]', "attributes": "[]",
         "window_days": 7, "cadence_hours": 24, "min_group_size": 30,
         "thresholds": '{"impact_ratio": 0.8}'},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Unknown thresholds: impact_ratio" in response.content.decode()


def test_the_run_now_action_runs_the_report(risk_officer, report):
    schedule = ReportSchedule.objects.create(model=report.model, window_days=30)
    with time_machine.travel(END + dt.timedelta(days=1)):  # the logged week is in the window
        response = logged_in(risk_officer).post(
            "/admin/compliance/reportschedule/",
            {"action": "run_now", "_selected_action": [schedule.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert MonitoringReport.objects.count() == 2


def test_an_auditor_reads_a_report_and_its_trends_but_changes_nothing(auditor, report):
    client = logged_in(auditor)
    page = client.get(f"/admin/compliance/monitoringreport/{report.pk}/change/")
    assert page.status_code == 200 and report.content_sha256 in page.content.decode()
    assert b'name="_save"' not in page.content
    trends = client.get("/admin/compliance/monitoringreport/trends/credit-scoring/")
    assert trends.status_code == 200 and b"Accuracy" in trends.content
    assert client.get(f"/admin/compliance/monitoringreport/{report.pk}/delete/").status_code == 403
    assert client.get("/admin/compliance/reportschedule/add/").status_code == 403


def test_a_developer_cannot_run_reports_from_the_admin(developer, report):
    schedule = ReportSchedule.objects.create(model=report.model)
    response = logged_in(developer).post(
        "/admin/compliance/reportschedule/",
        {"action": "run_now", "_selected_action": [schedule.pk]},
    )
    assert response.status_code == 403
    assert MonitoringReport.objects.count() == 1
