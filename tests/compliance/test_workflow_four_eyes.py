"""Four-eyes: tier-1 and EU high-risk models need two different validators; an open
high-severity finding blocks approval until remediated or its risk accepted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from compliance import workflow
from compliance.choices import FindingStatus, RiskTier, Severity, VersionState
from compliance.models import RuleViolation
from tests.compliance.test_workflow_support import (
    approve,
    events,
    in_validation,
    review,
)

DUE = dt.date(2026, 6, 30)


def finding(version, validator, developer, severity=Severity.HIGH):
    return workflow.record_finding(
        version,
        validator,
        title="Target leakage",
        description="days_since_default is computed after the decision date.",
        severity=severity,
        owner=developer,
        due_date=DUE,
    )


def test_a_tier_1_version_needs_approvals_by_two_different_validators(
    version, developer, validator, second_validator
):
    in_validation(version, developer, validator)
    version = approve(version, validator)
    assert version.state == VersionState.IN_VALIDATION
    with pytest.raises(RuleViolation) as refused:
        workflow.approve_version(version, validator)
    assert refused.value.rule == "four-eyes"
    assert "victor has already decided" in str(refused.value)
    assert "approvals by 2 different validators" in str(refused.value)

    version = approve(version, second_validator)
    assert version.state == VersionState.APPROVED
    assert [e.after["approvals"] for e in events("version.approval_recorded")] == [1]
    assert events("version.approved")[0].after["approved_by"] == ["valerie", "victor"]


@pytest.mark.parametrize(
    ("tier", "category", "area", "required"),
    [
        (RiskTier.HIGH, "minimal", "", 2),
        (RiskTier.MEDIUM, "high_risk", "employment", 2),
        (RiskTier.MEDIUM, "limited", "", 1),
        (RiskTier.LOW, "minimal", "", 1),
    ],
)
def test_the_number_of_approvals_follows_tier_and_eu_category(
    ai_model, tier, category, area, required
):
    ai_model.risk_tier, ai_model.eu_ai_act_category, ai_model.annex_iii_area = tier, category, area
    assert ai_model.approvals_required == required


def test_one_approval_is_enough_for_a_tier_2_limited_risk_model(version, developer, validator):
    model = version.model
    model.risk_tier, model.eu_ai_act_category, model.annex_iii_area = 2, "limited", ""
    model.save()
    in_validation(version, developer, validator)
    assert approve(version, validator).state == VersionState.APPROVED


def test_an_open_high_severity_finding_blocks_approval_and_is_named(
    version, developer, validator, second_validator
):
    in_validation(version, developer, validator)
    blocker = finding(version, validator, developer)
    review(version, second_validator)
    with pytest.raises(RuleViolation) as refused:
        workflow.approve_version(version, second_validator)
    assert refused.value.rule == "open high-severity finding"
    assert f"#{blocker.pk} Target leakage (owner devon, due 2026-06-30)" in str(refused.value)


def test_medium_and_low_findings_do_not_block(version, developer, validator, second_validator):
    in_validation(version, developer, validator)
    finding(version, validator, developer, Severity.MEDIUM)
    finding(version, validator, developer, Severity.LOW)
    assert approve(version, validator, second_validator).state == VersionState.APPROVED


def test_a_remediated_finding_no_longer_blocks(version, developer, validator, second_validator):
    in_validation(version, developer, validator)
    blocker = finding(version, validator, developer)
    resolved = workflow.resolve_finding(
        blocker,
        second_validator,
        status=FindingStatus.REMEDIATED,
        resolution="Feature recomputed as of the decision date; re-tested.",
    )
    assert (resolved.status, resolved.resolved_by) == ("remediated", second_validator)
    assert approve(version, validator, second_validator).state == VersionState.APPROVED


def test_a_risk_officer_accepts_a_risk_with_a_justification(
    version, developer, validator, second_validator, risk_officer
):
    in_validation(version, developer, validator)
    blocker = finding(version, validator, developer)
    with pytest.raises(RuleViolation, match="victor may not accept the risk of a finding"):
        workflow.resolve_finding(
            blocker, validator, status=FindingStatus.RISK_ACCEPTED, resolution="fine"
        )
    with pytest.raises(ValidationError, match="Justify accepting the risk"):
        workflow.resolve_finding(
            blocker, risk_officer, status=FindingStatus.RISK_ACCEPTED, resolution=""
        )
    accepted = workflow.resolve_finding(
        blocker,
        risk_officer,
        status=FindingStatus.RISK_ACCEPTED,
        resolution="Compensating control: manual review of every decline until fixed.",
    )
    assert (accepted.status, accepted.resolved_by) == ("risk_accepted", risk_officer)
    assert approve(version, validator, second_validator).state == VersionState.APPROVED


def test_a_resolved_finding_cannot_be_resolved_again(
    version, developer, validator, second_validator
):
    in_validation(version, developer, validator)
    done = workflow.resolve_finding(
        finding(version, validator, developer),
        validator,
        status=FindingStatus.REMEDIATED,
        resolution="Fixed.",
    )
    with pytest.raises(workflow.IllegalTransition, match="already remediated"):
        workflow.resolve_finding(
            done, second_validator, status=FindingStatus.REMEDIATED, resolution="Again."
        )


def test_a_revalidation_needs_two_different_validators_again(
    version, developer, validator, second_validator
):
    in_validation(version, developer, validator)
    version = approve(version, validator, second_validator)
    first_expiry = version.approval_expires_at

    version = approve(version, validator)  # a revalidation, cycle 2
    assert version.approval_expires_at == first_expiry
    version = approve(version, second_validator)
    assert version.state == VersionState.APPROVED
    assert version.approval_expires_at > first_expiry
    assert version.validation_cycle == 3
    assert events("version.approved")[-1].after["cycle"] == 2
