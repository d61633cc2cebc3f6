"""Every workflow action writes its governance event (type, actor, before/after, reason) in the
same transaction as the action: both commit, or neither."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import GovernanceEvent
from compliance import workflow
from compliance.choices import FindingStatus, Severity, VersionState
from compliance.models import ModelVersion
from tests.compliance.test_workflow_support import (
    SATISFACTORY,
    approve,
    assert_event,
    in_validation,
    review,
)

DUE = dt.date(2027, 6, 30)


def test_each_transition_of_a_version_is_an_event_with_who_what_and_why(
    version, developer, validator, second_validator, risk_officer
):
    workflow.submit_version(version, developer, "Ready: metrics above thresholds.")
    assert_event(
        "version.submitted",
        actor="devon",
        before={"state": "draft"},
        after={"state": "submitted", "manifest_sha256": version.manifest_sha256},
        reason="Ready: metrics above thresholds.",
        obj=version,
    )
    workflow.start_validation(version, validator, "Taking it.")
    assert_event(
        "version.validation_started",
        actor="victor",
        before={"state": "submitted"},
        after={"state": "in_validation", "cycle": 1},
        reason="Taking it.",
    )
    approve(version, validator)
    assert_event(
        "version.approval_recorded",
        actor="victor",
        before={"state": "in_validation", "approvals": 0, "required": 2},
        after={"state": "in_validation", "approvals": 1, "approved_by": ["victor"]},
        reason="Fit for purpose.",
    )
    version = approve(version, second_validator)
    assert_event(
        "version.approved",
        actor="valerie",
        before={"state": "in_validation", "approvals": 1, "required": 2},
        after={
            "state": "approved",
            "approvals": 2,
            "approved_by": ["valerie", "victor"],
            "expires_at": version.approval_expires_at.isoformat().replace("+00:00", "Z"),
            "open_conditions": 0,
        },
    )
    deployment = workflow.deploy_version(version, risk_officer, reason="Go-live 1 Dec.")
    assert_event(
        "deployment.deployed",
        actor="rita",
        before=None,
        after={
            "deployment": deployment.pk,
            "version": "1.0.0",
            "environment": "production",
            "role": "champion",
        },
        reason="Go-live 1 Dec.",
        obj=deployment,
    )
    workflow.record_oversight(risk_officer, "stop", model=version.model, reason="Incident 42.")
    workflow.retire_version(version, risk_officer, "Replaced by the 2027 model.")
    assert_event(
        "version.retired",
        actor="rita",
        before={"state": "approved"},
        after={"state": "retired"},
        reason="Replaced by the 2027 model.",
    )


def test_a_rejection_is_an_event_with_its_reason(version, developer, validator):
    in_validation(version, developer, validator)
    workflow.reject_version(version, validator, "Unstable across quarters.")
    assert_event(
        "version.rejected",
        actor="victor",
        before={"state": "in_validation"},
        after={"state": "rejected"},
        reason="Unstable across quarters.",
    )


NO_SUBSTANCE = {"references": {}, "benchmark": {}, "recommendations": "", "sensitivity": ""}


def test_reviews_findings_and_conditions_are_events(
    version, developer, validator, second_validator, risk_officer
):
    in_validation(version, developer, validator)
    first = review(version, validator, outcomes_analysis_conclusion="")
    assert_event(
        "review.recorded",
        actor="victor",
        before=None,
        after={"scope": SATISFACTORY["scope"]},
        obj=first,
    )
    review(version, validator)
    assert_event(
        "review.revised",
        actor="victor",
        # every review field is in the ledger, the substance ones empty while not given
        before={**SATISFACTORY, "outcomes_analysis_conclusion": "", **NO_SUBSTANCE},
        after={"outcomes_analysis_conclusion": "satisfactory", **NO_SUBSTANCE},
    )
    finding = workflow.record_finding(
        version,
        validator,
        title="Thin data for 18-24",
        description="Only 212 applicants aged 18-24 in training.",
        severity=Severity.MEDIUM,
        owner=developer,
        due_date=DUE,
        reason="Seen in the fairness report.",
    )
    assert_event(
        "finding.recorded",
        actor="victor",
        before=None,
        after={
            "version": "1.0.0",
            "severity": "medium",
            "owner": "devon",
            "due_date": "2027-06-30",
            "status": "open",
        },
        reason="Seen in the fairness report.",
        obj=finding,
    )
    workflow.resolve_finding(
        finding, risk_officer, status=FindingStatus.RISK_ACCEPTED, resolution="Monitored monthly."
    )
    assert_event(
        "finding.risk_accepted",
        actor="rita",
        before={"status": "open"},
        after={"status": "risk_accepted", "resolved_by": "rita"},
        reason="Monitored monthly.",
        obj=finding,
    )
    condition = workflow.add_condition(
        version, second_validator, description="Quarterly back-test.", due_date=DUE
    )
    assert_event(
        "condition.added", actor="valerie", after={"due_date": "2027-06-30"}, obj=condition
    )
    workflow.meet_condition(condition, validator, note="Q1 back-test filed.")
    assert_event(
        "condition.met",
        actor="victor",
        before={"status": "open"},
        after={"status": "met", "met_by": "victor"},
        reason="Q1 back-test filed.",
    )


def test_a_refused_action_writes_no_event(version, developer, validator):
    in_validation(version, developer, validator)
    count = GovernanceEvent.objects.count()
    with pytest.raises(workflow.RuleViolation):
        workflow.approve_version(version, validator)  # no review yet
    assert GovernanceEvent.objects.count() == count


def test_the_action_and_its_event_commit_together_or_not_at_all(version, developer, monkeypatch):
    def ledger_down(*args, **kwargs):
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(workflow, "record_event", ledger_down)
    with pytest.raises(RuntimeError):
        workflow.submit_version(version, developer)
    assert ModelVersion.objects.get(pk=version.pk).state == VersionState.DRAFT


def test_the_timeline_of_a_version_holds_every_transition_review_finding_and_deployment(
    api, auditor, version, developer, validator, second_validator, risk_officer
):
    in_validation(version, developer, validator)
    workflow.record_finding(
        version,
        validator,
        title="Minor",
        description="Docs typo.",
        severity=Severity.LOW,
        owner=developer,
        due_date=DUE,
    )
    approve(version, validator, second_validator)
    workflow.deploy_version(version, risk_officer, reason="Go-live.")
    response = api.as_(auditor).get(f"/api/v1/versions/{version.pk}/timeline/")
    assert response.status_code == 200
    ours = ("version.", "review.", "finding.", "condition.", "deployment.")
    workflow_types = [e["event_type"] for e in response.json() if e["event_type"].startswith(ours)]
    assert workflow_types == [
        "version.submitted",
        "version.validation_started",
        "finding.recorded",
        "review.recorded",
        "version.approval_recorded",
        "review.recorded",
        "version.approved",
        "deployment.deployed",
    ]
