"""The lifecycle of a version: draft → submitted → in validation → approved / rejected → retired,
moved only by the workflow functions."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from compliance import workflow
from compliance.choices import ConditionStatus, RiskTier, Role, VersionState
from compliance.models import FrozenBundleError, IllegalTransition, ModelVersion, RuleViolation
from tests.compliance.test_workflow_support import (
    approve,
    approved,
    in_validation,
    new_version,
    review,
)
from tests.conftest import make_user

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


def test_a_tier_1_version_goes_from_draft_to_approved_by_two_validators(
    version, developer, validator, second_validator
):
    with time_machine.travel(NOW, tick=False):
        version = workflow.submit_version(version, developer, "ready for validation")
        assert (version.state, version.submitted_by, version.submitted_at) == (
            VersionState.SUBMITTED,
            developer,
            NOW,
        )
        version = workflow.start_validation(version, validator)
        assert version.state == VersionState.IN_VALIDATION

        version = approve(version, validator)
        assert version.state == VersionState.IN_VALIDATION  # one of two approvals
        version = approve(version, second_validator)

    assert version.state == VersionState.APPROVED
    assert version.approved_at == NOW
    assert version.approval_expires_at == dt.datetime(2027, 3, 10, 9, 0, tzinfo=dt.UTC)
    assert version.validation_cycle == 2  # the next reviews belong to the first revalidation
    assert version.approval_is_current(NOW + dt.timedelta(days=364))
    version.refresh_from_db()
    assert version.state == VersionState.APPROVED


def test_a_tier_3_minimal_risk_version_needs_one_approval(version, developer, validator):
    model = version.model
    model.risk_tier, model.eu_ai_act_category, model.annex_iii_area = RiskTier.LOW, "minimal", ""
    model.save()
    with time_machine.travel(NOW, tick=False):
        version = approved(version, developer, validator)
    assert version.state == VersionState.APPROVED
    assert version.approval_expires_at == dt.datetime(2029, 3, 10, 9, 0, tzinfo=dt.UTC)


def test_submitting_freezes_the_bundle(version, developer):
    workflow.submit_version(version, developer)
    version.refresh_from_db()
    version.code_commit = "changed"
    with pytest.raises(FrozenBundleError, match="frozen"):
        version.save()


def test_the_state_changes_only_through_the_workflow_never_by_saving(version):
    version.state = VersionState.APPROVED
    with pytest.raises(IllegalTransition, match="changes only through the workflow"):
        version.save()
    assert ModelVersion.objects.get(pk=version.pk).state == VersionState.DRAFT


def test_an_illegal_transition_names_the_state_and_what_it_allows(version, validator):
    with pytest.raises(IllegalTransition) as refused:
        workflow.approve_version(version, validator)
    assert str(refused.value) == (
        "Cannot approve credit-scoring 1.0.0: it is draft; allowed from draft: submit."
    )
    assert (refused.value.state, refused.value.allowed) == ("draft", ["submit"])


def test_a_rejected_version_allows_nothing_and_a_new_version_supersedes_it(
    version, developer, validator, ai_model
):
    in_validation(version, developer, validator)
    version = workflow.reject_version(version, validator, "Leakage of the target in features.")
    assert version.state == VersionState.REJECTED
    for action in (workflow.submit_version, workflow.start_validation):
        with pytest.raises(IllegalTransition, match="nothing is allowed from rejected"):
            action(version, developer if action is workflow.submit_version else validator)

    successor = new_version(ai_model, developer, "1.0.1")
    assert workflow.submit_version(successor, developer).state == VersionState.SUBMITTED


def test_a_rejection_needs_a_reason(version, developer, validator):
    in_validation(version, developer, validator)
    with pytest.raises(ValidationError, match="Say why"):
        workflow.reject_version(version, validator, "  ")


def test_open_conditions_make_the_approval_one_with_conditions(
    version, developer, validator, second_validator
):
    in_validation(version, developer, validator)
    condition = workflow.add_condition(
        version,
        validator,
        description="Report approval rates by age band monthly for six months.",
        due_date=dt.date(2026, 9, 30),
    )
    version = approve(version, validator, second_validator)
    assert version.state == VersionState.APPROVED_WITH_CONDITIONS
    assert version.reviews.get(validator=validator).decision == "approve_with_conditions"

    condition = workflow.meet_condition(condition, second_validator, note="Six reports filed.")
    assert (condition.status, condition.met_by) == (ConditionStatus.MET, second_validator)
    with pytest.raises(IllegalTransition, match="already met"):
        workflow.meet_condition(condition, validator, note="again")


def test_a_review_is_revised_until_it_is_decided(version, developer, validator):
    in_validation(version, developer, validator)
    first = review(version, validator, outcomes_analysis_conclusion="")
    revised, created = workflow.record_review(
        version, validator, outcomes_analysis_conclusion="satisfactory"
    )
    assert (revised.pk, created) == (first.pk, False)
    workflow.approve_version(version, validator)
    with pytest.raises(IllegalTransition, match="a decided review never changes"):
        workflow.record_review(version, validator, scope="Something else")


def test_an_approval_needs_a_complete_satisfactory_review(version, developer, validator):
    in_validation(version, developer, validator)
    with pytest.raises(RuleViolation, match="there is no review by them"):
        workflow.approve_version(version, validator)
    review(version, validator, ongoing_monitoring_conclusion="")
    with pytest.raises(RuleViolation, match="no conclusion on ongoing monitoring"):
        workflow.approve_version(version, validator)
    review(version, validator, ongoing_monitoring_conclusion="unsatisfactory")
    with pytest.raises(RuleViolation, match="ongoing monitoring is unsatisfactory"):
        workflow.approve_version(version, validator)


def test_only_the_developing_team_submits(version):
    stranger = make_user("dana", Role.DEVELOPER)
    with pytest.raises(RuleViolation, match="only members of the developing team"):
        workflow.submit_version(version, stranger)


def test_an_approved_version_that_serves_nowhere_is_retired(
    version, developer, validator, second_validator, risk_officer
):
    approved(version, developer, validator, second_validator)
    version = workflow.retire_version(version, risk_officer, "Superseded by 2.0.0.")
    assert version.state == VersionState.RETIRED
    assert version.allowed_actions() == []


def test_workflow_functions_check_roles_whoever_calls_them(version, developer, auditor):
    with pytest.raises(RuleViolation, match="audrey may not submit a version"):
        workflow.submit_version(version, auditor)
    workflow.submit_version(version, developer)
    with pytest.raises(RuleViolation, match="devon may not validate a version"):
        workflow.start_validation(version, developer)
