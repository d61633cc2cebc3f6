"""The workflow in the admin: the validator's queue, steps with a form for the reason, refusals
as messages (bulk actions included), no editable state, the timeline, the risk officer's views."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from compliance import workflow
from compliance.choices import Severity, VersionState
from compliance.models import AIModel, Deployment, ModelVersion
from tests.compliance.test_workflow_support import (
    SATISFACTORY,
    approved,
    deployed,
    developer_validator,
    in_validation,
    new_version,
    review,
)

VERSIONS = "/admin/compliance/modelversion/"
QUEUE = "/admin/compliance/validationqueue/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def step(version, name: str) -> str:
    return f"{VERSIONS}{version.pk}/act/{name}/"


def state(version) -> str:
    return ModelVersion.objects.get(pk=version.pk).state


@pytest.fixture
def dora(ai_model):
    user = developer_validator("dora")
    ai_model.developing_team.add(user)
    return user


@pytest.fixture
def collections_version(developer):
    model = AIModel.objects.create(
        name="Collections", slug="collections", risk_tier=3, eu_ai_act_category="minimal"
    )
    model.developing_team.add(developer)
    return new_version(model, developer, "0.1.0")


def test_a_validator_sees_their_queue_and_never_their_own_versions(
    version, collections_version, developer, validator, dora
):
    workflow.submit_version(version, developer)
    workflow.submit_version(collections_version, developer)
    page = logged_in(validator).get(QUEUE).content.decode()
    assert "credit-scoring 1.0.0" in page and "collections 0.1.0" in page
    page = logged_in(dora).get(QUEUE).content.decode()
    assert "credit-scoring 1.0.0" not in page and "collections 0.1.0" in page


def test_only_validators_have_a_queue(auditor, risk_officer, developer):
    for person in (auditor, risk_officer, developer):
        assert logged_in(person).get(QUEUE).status_code == 403


def test_a_validator_reviews_and_approves_on_the_version_page(
    version, developer, validator, second_validator
):
    in_validation(version, developer, validator)
    client = logged_in(validator)
    page = client.get(f"{VERSIONS}{version.pk}/change/").content.decode()
    assert "act/review/" in page and "act/approve/" in page and "act/deploy/" not in page

    form = client.get(step(version, "review"))
    assert form.status_code == 200 and 'name="scope"' in form.content.decode()
    response = client.post(step(version, "review"), {**SATISFACTORY, "reason": ""}, follow=True)
    assert "Record your review: credit-scoring 1.0.0." in response.content.decode()

    response = client.post(step(version, "approve"), {"reason": "Sound."}, follow=True)
    assert "Approve: credit-scoring 1.0.0." in response.content.decode()
    assert version.reviews.get(validator=validator).decision == "approve"
    assert state(version) == VersionState.IN_VALIDATION  # one of two


def test_a_refusal_in_the_admin_is_a_message_naming_the_rule(version, developer, validator, dora):
    in_validation(version, developer, validator)
    response = logged_in(dora).post(step(version, "approve"), {"reason": "mine"}, follow=True)
    page = response.content.decode()
    assert (
        "Approve refused for credit-scoring 1.0.0: Segregation of duties: nobody may validate "
        "or approve"
    ) in page
    assert "dora is on the developing team of credit-scoring." in page
    assert state(version) == VersionState.IN_VALIDATION


def test_a_step_the_role_does_not_hold_is_forbidden(version, developer, auditor):
    workflow.submit_version(version, developer)
    assert logged_in(developer).get(step(version, "start-validation")).status_code == 403
    assert logged_in(auditor).post(step(version, "start-validation"), {}).status_code == 403
    assert state(version) == VersionState.SUBMITTED


def test_a_bulk_action_asks_for_the_reason_then_runs_each_and_reports_each_refusal(
    version, collections_version, developer, dora
):
    workflow.submit_version(version, developer)
    workflow.submit_version(collections_version, developer)
    client = logged_in(dora)
    selected = {
        "action": "start_validation",
        "_selected_action": [version.pk, collections_version.pk],
    }

    form = client.post(VERSIONS, {**selected, "index": "0"})
    assert form.status_code == 200
    assert 'name="reason"' in form.content.decode()
    assert state(version) == VersionState.SUBMITTED  # nothing happened yet

    response = client.post(
        VERSIONS, {**selected, "apply": "1", "reason": "Taking both."}, follow=True
    )
    page = response.content.decode()
    assert "Start validation: collections 0.1.0." in page
    assert "Start validation refused for credit-scoring 1.0.0: Segregation of duties" in page
    assert state(collections_version) == VersionState.IN_VALIDATION
    assert state(version) == VersionState.SUBMITTED


def test_a_bulk_action_is_offered_only_to_roles_that_hold_it(version, developer, auditor):
    actions = logged_in(developer).get(VERSIONS).content.decode()
    assert 'value="submit"' in actions and 'value="approve"' not in actions
    assert 'value="submit"' not in logged_in(auditor).get(VERSIONS).content.decode()


def test_the_state_is_not_a_form_field_and_a_posted_state_is_ignored(version, developer):
    client = logged_in(developer)
    page = client.get(f"{VERSIONS}{version.pk}/change/").content.decode()
    assert 'name="state"' not in page
    form = {f: getattr(version, f) for f in ModelVersion.BUNDLE_FIELDS}
    form.update(
        input_schema='{"type": "object"}',
        configuration="{}",
        evaluation_metrics="{}",
        baselines="{}",
        state="approved",
        **{f"{p}-TOTAL_FORMS": "0" for p in ("reviews", "findings", "conditions", "deployments")},
        **{f"{p}-INITIAL_FORMS": "0" for p in ("reviews", "findings", "conditions", "deployments")},
    )
    response = client.post(f"{VERSIONS}{version.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert state(version) == VersionState.DRAFT


def test_the_version_page_shows_its_timeline(version, developer, validator, auditor):
    in_validation(version, developer, validator)
    workflow.record_finding(
        version,
        validator,
        title="Docs typo",
        description="Section 3.",
        severity=Severity.LOW,
        owner=developer,
        due_date=dt.date(2027, 1, 31),
    )
    page = logged_in(auditor).get(f"{VERSIONS}{version.pk}/change/").content.decode()
    for what in ("version.submitted", "version.validation_started", "finding.recorded"):
        assert what in page
    assert "/act/" not in page  # the auditor gets no buttons


def test_the_risk_officer_deploys_and_rolls_back_in_the_admin(
    version, ai_model, developer, validator, second_validator, risk_officer
):
    approved(version, developer, validator, second_validator)
    client = logged_in(risk_officer)
    response = client.post(
        step(version, "deploy"),
        {"environment": "production", "role": "", "reason": "Go-live."},
        follow=True,
    )
    assert "Deploy: credit-scoring 1.0.0." in response.content.decode()
    deployed(
        new_version(ai_model, developer, "1.1.0"),
        developer,
        risk_officer,
        validator,
        second_validator,
    )

    response = client.post(
        "/admin/compliance/aimodel/",
        {
            "action": "rollback",
            "_selected_action": [ai_model.pk],
            "apply": "1",
            "environment": "production",
            "reason": "Declines doubled.",
        },
        follow=True,
    )
    assert "Roll back to the previous champion: Retail credit scoring." in response.content.decode()
    assert Deployment.objects.active().get().version == version


def test_the_risk_officer_sees_overdue_approvals_findings_and_conditions(
    version, developer, validator, second_validator, risk_officer
):
    with time_machine.travel(timezone.now() - dt.timedelta(days=400)):
        in_validation(version, developer, validator)
        long_ago = timezone.localdate()
        workflow.record_finding(
            version,
            validator,
            title="Late finding",
            description="Overdue.",
            severity=Severity.MEDIUM,
            owner=developer,
            due_date=long_ago,
        )
        workflow.add_condition(version, validator, description="Late condition", due_date=long_ago)
        review(version, validator)
        workflow.approve_version(version, validator)
        review(version, second_validator)
        workflow.approve_version(version, second_validator)

    client = logged_in(risk_officer)
    assert "Late finding" in client.get("/admin/compliance/finding/?overdue=yes").content.decode()
    conditions = client.get("/admin/compliance/condition/?overdue=yes").content.decode()
    assert "Late condition" in conditions
    page = client.get(f"{VERSIONS}?revalidation=overdue").content.decode()
    assert "credit-scoring 1.0.0" in page and "revalidation overdue" in page
    assert (
        "credit-scoring 1.0.0"
        not in client.get(f"{VERSIONS}?revalidation=current").content.decode()
    )


def test_the_risk_officer_accepts_a_risk_from_the_findings_list(
    version, developer, validator, risk_officer
):
    in_validation(version, developer, validator)
    finding = workflow.record_finding(
        version,
        validator,
        title="Thin data",
        description="Few young applicants.",
        severity=Severity.HIGH,
        owner=developer,
        due_date=dt.date(2027, 1, 31),
    )
    response = logged_in(risk_officer).post(
        f"/admin/compliance/finding/{finding.pk}/act/accept-risk/",
        {"resolution": "Manual review of young applicants until retraining."},
        follow=True,
    )
    assert response.status_code == 200
    finding.refresh_from_db()
    assert (finding.status, finding.resolved_by) == ("risk_accepted", risk_officer)
