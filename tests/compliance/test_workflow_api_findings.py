"""Reviews, findings and conditions over the API: works; 401; 403 for the wrong role; 400 with a
clear message; 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from compliance.choices import FindingStatus
from compliance.models import Finding
from tests.compliance.test_workflow_support import SATISFACTORY, in_validation

FINDING = {
    "title": "Target leakage",
    "description": "days_since_default is computed after the decision date.",
    "severity": "high",
    "owner": "devon",
    "due_date": str(timezone.localdate() + dt.timedelta(days=90)),
    "reason": "Found while back-testing.",
}
CONDITION = {
    "description": "Monthly fairness report to the committee.",
    "due_date": str(timezone.localdate() + dt.timedelta(days=180)),
}


@pytest.fixture
def validating(version, developer, validator):
    return in_validation(version, developer, validator)


def url(version, path: str) -> str:
    return f"/api/v1/versions/{version.pk}/{path}/"


def test_a_validator_records_then_revises_their_review(api, validator, validating):
    client = api.as_(validator)
    first = client.post(url(validating, "reviews"), {"scope": "Data and design only."})
    assert first.status_code == 201, first.json()
    assert (first.json()["validator"], first.json()["cycle"]) == ("victor", 1)

    revised = client.post(url(validating, "reviews"), SATISFACTORY)
    assert revised.status_code == 200
    assert revised.json()["id"] == first.json()["id"]
    assert revised.json()["outcomes_analysis_conclusion"] == "satisfactory"
    listed = client.get(url(validating, "reviews")).json()["results"]
    assert [r["scope"] for r in listed] == [SATISFACTORY["scope"]]


def test_a_review_needs_a_scope_and_known_conclusions(api, validator, validating):
    client = api.as_(validator)
    response = client.post(url(validating, "reviews"), {"scope": ""})
    assert response.status_code == 400 and "scope" in response.json()
    response = client.post(
        url(validating, "reviews"), {"scope": "x", "outcomes_analysis_conclusion": "great"}
    )
    assert response.status_code == 400
    assert "outcomes_analysis_conclusion" in response.json()


def test_a_validator_records_a_finding_and_everyone_involved_reads_it(
    api, validator, developer, auditor, risk_officer, validating
):
    response = api.as_(validator).post(url(validating, "findings"), FINDING)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["owner"], body["raised_by"], body["overdue"]) == (
        "open",
        "devon",
        "victor",
        False,
    )
    overdue = {**FINDING, "due_date": str(timezone.localdate() - dt.timedelta(days=1))}
    assert api.as_(validator).post(url(validating, "findings"), overdue).json()["overdue"]
    for reader in (developer, auditor, risk_officer):
        listed = api.as_(reader).get(url(validating, "findings"))
        assert listed.status_code == 200
        assert [f["overdue"] for f in listed.json()["results"]] == [False, True]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"severity": "critical"}, "severity"),
        ({"owner": "nobody"}, "owner"),
        ({"due_date": "soon"}, "due_date"),
        ({"title": ""}, "title"),
    ],
)
def test_a_bad_finding_is_a_400_naming_the_field(api, validator, validating, change, field):
    response = api.as_(validator).post(url(validating, "findings"), {**FINDING, **change})
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("path", ["reviews", "findings", "conditions"])
def test_only_validators_record_reviews_findings_and_conditions(
    api, developer, risk_officer, auditor, service, validating, path
):
    body = {"reviews": {"scope": "x"}, "findings": FINDING, "conditions": CONDITION}[path]
    for person in (developer, risk_officer, auditor, service):
        response = api.as_(person).post(url(validating, path), body)
        assert response.status_code == 403, person
        assert response.json()["detail"].startswith("Only validators may")
    assert APIClient().post(url(validating, path), body).status_code == 401
    assert api.as_(service).get(url(validating, path)).status_code == 403


@pytest.mark.parametrize("path", ["reviews", "findings", "conditions", "timeline", ""])
def test_an_unknown_version_is_a_404(api, validator, db, path):
    response = api.as_(validator).get(f"/api/v1/versions/999999/{path}/".replace("//", "/"))
    assert response.status_code == 404


def test_a_finding_is_remediated_by_a_validator_or_its_risk_accepted_by_a_risk_officer(
    api, validator, second_validator, risk_officer, developer, validating
):
    first = api.as_(validator).post(url(validating, "findings"), FINDING).json()["id"]
    second = api.as_(validator).post(url(validating, "findings"), FINDING).json()["id"]
    remediated = {"status": "remediated", "resolution": "Recomputed; re-tested."}
    accepted = {"status": "risk_accepted", "resolution": "Manual review of declines."}

    response = api.as_(developer).post(f"/api/v1/findings/{first}/resolve/", remediated)
    assert response.status_code == 403
    assert "devon may not confirm a remediation" in response.json()["detail"]
    response = api.as_(second_validator).post(f"/api/v1/findings/{first}/resolve/", accepted)
    assert response.status_code == 403
    assert "may not accept the risk" in response.json()["detail"]

    response = api.as_(second_validator).post(f"/api/v1/findings/{first}/resolve/", remediated)
    assert response.status_code == 200, response.json()
    assert response.json()["resolved_by"] == "valerie"
    response = api.as_(risk_officer).post(f"/api/v1/findings/{second}/resolve/", accepted)
    assert response.status_code == 200
    assert Finding.objects.get(pk=second).status == FindingStatus.RISK_ACCEPTED

    again = api.as_(risk_officer).post(f"/api/v1/findings/{second}/resolve/", accepted)
    assert again.status_code == 409 and "already risk accepted" in again.json()["detail"]
    bad = api.as_(risk_officer).post(f"/api/v1/findings/{second}/resolve/", {"status": "gone"})
    assert bad.status_code == 400 and {"status", "resolution"} <= set(bad.json())
    assert api.as_(risk_officer).post("/api/v1/findings/999999/resolve/", accepted).status_code == (
        404
    )
    assert APIClient().post(f"/api/v1/findings/{second}/resolve/", accepted).status_code == 401


def test_a_condition_is_added_and_met_by_validators(
    api, validator, second_validator, developer, validating
):
    response = api.as_(validator).post(url(validating, "conditions"), CONDITION)
    assert response.status_code == 201, response.json()
    condition = response.json()["id"]
    meet = f"/api/v1/conditions/{condition}/meet/"
    refused = api.as_(developer).post(meet, {"note": "Done."})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Only validators may confirm a condition."
    assert api.as_(second_validator).post(meet, {}).status_code == 400
    met = api.as_(second_validator).post(meet, {"note": "First report filed on time."})
    assert met.status_code == 200
    assert (met.json()["status"], met.json()["met_by"]) == ("met", "valerie")
    assert api.as_(second_validator).post("/api/v1/conditions/999999/meet/", {}).status_code == 404


def test_the_status_of_a_version_says_where_it_stands(api, auditor, validator, validating):
    api.as_(validator).post(url(validating, "reviews"), SATISFACTORY)
    api.as_(validator).post(url(validating, "approve"), {})
    body = api.as_(auditor).get(f"/api/v1/versions/{validating.pk}/").json()
    assert body["state"] == "in_validation"
    assert (body["approvals"], body["approvals_required"]) == (["victor"], 2)
    assert body["allowed_actions"] == [
        "review",
        "record-finding",
        "add-condition",
        "approve",
        "reject",
    ]
    assert body["submitted_by"] == "devon" and body["deployments"] == []
