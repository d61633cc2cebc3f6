"""/api/v1/reports/ (each report's content served as hashed) and /api/v1/models/{slug}/reports/:
read, run now, trends."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from audit.models import GovernanceEvent
from compliance.models import MonitoringReport
from compliance.reports import run_report
from tests.compliance.test_report_scenarios import END, START, log

RUN = "/api/v1/models/credit-scoring/reports/"


@pytest.fixture
def logged(version):
    log(version, [("M", i % 2 == 0, bool(i % 3), 0.6) for i in range(200)])
    return version


@pytest.fixture
def report(logged):
    (report,) = run_report(logged.model, start=START, end=END, n_bootstrap=0)
    return report


def test_a_validator_runs_a_report_now(api, validator, logged):
    response = api.as_(validator).post(
        RUN, {"start": START.isoformat(), "end": END.isoformat()}, format="json"
    )
    assert response.status_code == 201, response.json()
    (body,) = response.json()
    assert body["results"]["counts"]["predictions"] == 200
    assert MonitoringReport.objects.get().requested_by == validator


def test_reports_are_listed_by_model_and_read_with_every_number(api, auditor, report):
    client = api.as_(auditor)
    listing = client.get("/api/v1/reports/?model=credit-scoring").json()["results"]
    assert [r["id"] for r in listing] == [report.pk]
    detail = client.get(f"/api/v1/reports/{report.pk}/").json()
    assert detail["content_sha256"] == report.content_sha256
    assert detail["results"]["fairness"]["attributes"][0]["attribute"] == "sex"


def test_trends_follow_each_metric_across_runs(api, risk_officer, logged):
    for _ in range(2):
        run_report(logged.model, start=START, end=END, n_bootstrap=0)
    body = api.as_(risk_officer).get(RUN + "trends/").json()
    assert len(body["max_demographic_parity_difference"]) == 2
    assert body["accuracy"][0]["version"] == "1.0.0"


@pytest.mark.parametrize("persona", ["developer", "auditor", "service", "outsider"])
def test_only_validators_and_risk_officers_run_reports(api, persona, request, logged):
    response = api.as_(request.getfixturevalue(persona)).post(RUN, {}, format="json")
    assert response.status_code == 403
    assert not MonitoringReport.objects.exists()


@pytest.mark.parametrize("persona", ["service", "outsider"])
def test_service_accounts_cannot_read_reports(api, persona, request, report):
    assert api.as_(request.getfixturevalue(persona)).get("/api/v1/reports/").status_code == 403


def test_reports_need_credentials(client, report):
    assert client.get("/api/v1/reports/").status_code == 401
    assert client.post(RUN, {}, content_type="application/json").status_code == 401


def test_a_backwards_window_is_a_400(api, validator, logged):
    response = api.as_(validator).post(
        RUN, {"start": END.isoformat(), "end": START.isoformat()}, format="json"
    )
    assert response.status_code == 400
    assert "must start before it ends" in response.json()["start"][0]


def test_a_window_starting_after_now_without_an_end_is_a_400(api, validator, logged):
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    response = api.as_(validator).post(RUN, {"start": start.isoformat()}, format="json")
    assert response.status_code == 400
    assert "must start before it ends" in response.json()["start"][0]


def test_unknown_models_and_reports_are_404(api, validator, report):
    client = api.as_(validator)
    assert client.post("/api/v1/models/nope/reports/", {}, format="json").status_code == 404
    assert client.get("/api/v1/reports/999999/").status_code == 404
    assert client.get("/api/v1/reports/?model=nope").status_code == 404


def test_a_reports_content_is_served_exactly_as_hashed_in_the_ledger(api, auditor, report):
    """The client hashes the body it receives: it must be the bytes whose SHA-256 the
    report.completed event holds (the detail view's JSON re-serialises them, other bytes)."""
    response = api.as_(auditor).get(f"/api/v1/reports/{report.pk}/content/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    digest = hashlib.sha256(response.content).hexdigest()
    event = GovernanceEvent.objects.get(event_type="report.completed", object_id=str(report.pk))
    assert digest == report.content_sha256 == event.after["sha256"]
    assert response["X-Content-SHA256"] == digest
    assert json.loads(response.content)["results"] == report.results


def test_a_reports_content_needs_credentials_and_the_right_role_and_an_existing_report(
    api, client, service, auditor, report
):
    url = f"/api/v1/reports/{report.pk}/content/"
    assert client.get(url).status_code == 401
    assert api.as_(service).get(url).status_code == 403
    assert api.as_(auditor).get(f"/api/v1/reports/{report.pk + 999}/content/").status_code == 404
