"""Reviews, findings, conditions and deployments in the admin: readable by those who oversee
them, changed by nobody except through the workflow's steps."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from compliance import workflow
from compliance.choices import Severity
from tests.compliance.test_workflow_support import (
    approve,
    developer_validator,
    in_validation,
)

DUE = dt.date(2027, 3, 31)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def records(version, developer, validator, second_validator, risk_officer):
    """A deployed version with a review each, a finding and a condition."""
    in_validation(version, developer, validator)
    finding = workflow.record_finding(
        version,
        validator,
        title="Stale baseline",
        description="Baselines predate retraining.",
        severity=Severity.MEDIUM,
        owner=developer,
        due_date=DUE,
    )
    condition = workflow.add_condition(
        version, validator, description="Quarterly back-test.", due_date=DUE
    )
    approve(version, validator, second_validator)
    deployment = workflow.deploy_version(version, risk_officer, reason="Go-live.")
    return {
        "finding": finding,
        "condition": condition,
        "validationreview": version.reviews.first(),
        "deployment": deployment,
    }


@pytest.mark.parametrize("persona", ["auditor", "risk_officer", "validator", "developer"])
@pytest.mark.parametrize("kind", ["finding", "condition", "validationreview", "deployment"])
def test_the_workflow_records_are_readable_by_everyone_involved(request, records, persona, kind):
    client = logged_in(request.getfixturevalue(persona))
    obj = records[kind]
    assert client.get(f"/admin/compliance/{kind}/").status_code == 200
    page = client.get(f"/admin/compliance/{kind}/{obj.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # read-only, for everybody


@pytest.mark.parametrize("kind", ["finding", "condition", "validationreview", "deployment"])
def test_nobody_adds_or_deletes_workflow_records_in_the_admin(risk_officer, records, kind):
    client = logged_in(risk_officer)
    assert client.get(f"/admin/compliance/{kind}/add/").status_code == 403
    obj = records[kind]
    assert client.get(f"/admin/compliance/{kind}/{obj.pk}/delete/").status_code == 403


def test_the_version_page_lists_its_reviews_findings_conditions_and_deployments(
    auditor, version, records
):
    page = logged_in(auditor).get(f"/admin/compliance/modelversion/{version.pk}/change/")
    content = page.content.decode()
    for text in ("Stale baseline", "Quarterly back-test.", "Go-live.", "victor", "valerie"):
        assert text in content


def test_a_validator_confirms_findings_in_bulk_and_each_refusal_is_reported(
    version, ai_model, records, second_validator, developer, validator
):
    dora = developer_validator("dora")
    ai_model.developing_team.add(dora)
    other = workflow.record_finding(
        version,
        validator,
        title="Docs",
        description="Typo.",
        severity=Severity.LOW,
        owner=developer,
        due_date=DUE,
    )
    selected = [records["finding"].pk, other.pk]
    response = logged_in(dora).post(
        "/admin/compliance/finding/",
        {"action": "remediated", "_selected_action": selected, "apply": "1", "resolution": "ok"},
        follow=True,
    )
    assert response.content.decode().count("Confirm remediated refused for") == 2

    response = logged_in(second_validator).post(
        "/admin/compliance/finding/",
        {
            "action": "remediated",
            "_selected_action": selected,
            "apply": "1",
            "resolution": "Baselines recomputed; docs fixed.",
        },
        follow=True,
    )
    assert response.content.decode().count("Confirm remediated: ") == 2
    assert set(version.findings.values_list("status", flat=True)) == {"remediated"}


def test_a_validator_confirms_a_condition_on_its_page(second_validator, records):
    condition = records["condition"]
    client = logged_in(second_validator)
    page = client.get(f"/admin/compliance/condition/{condition.pk}/change/").content.decode()
    assert f"/admin/compliance/condition/{condition.pk}/act/met/" in page
    client.post(
        f"/admin/compliance/condition/{condition.pk}/act/met/", {"note": "Q1 back-test filed."}
    )
    condition.refresh_from_db()
    assert (condition.status, condition.met_by) == ("met", second_validator)
