"""Issue #16, hole 1: django-simple-history's per-record history page (its "revert" form)
saved on POST for anyone who may view the record. History is evidence: every history page
stays readable and refuses to change anything, for every role, superusers included.

Each test is one reproduced attack: that role POSTs the history form with the values it wanted,
and the row must not change."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from compliance import workflow
from compliance.choices import EUAIActCategory, RiskTier, Severity
from compliance.models import AIModel, Finding, ReportSchedule, ValidationReview
from tests.attacks import doors_support
from tests.attacks.doors_support import form_data, history_form_url, logged_in
from tests.compliance.test_workflow_support import in_validation, review

doors_superuser = doors_support.doors_superuser  # a fixture


def attack(user, obj, **changes):
    """``user`` POSTs the history page of ``obj`` with ``changes`` (every other field kept)."""
    return logged_in(user).post(history_form_url(obj), form_data(obj, user, **changes))


def test_a_validator_cannot_lower_a_risk_tier_and_empty_the_team_through_the_history_page(
    validator, ai_model
):
    response = attack(
        validator,
        ai_model,
        risk_tier=RiskTier.LOW,
        eu_ai_act_category=EUAIActCategory.MINIMAL,
        annex_iii_area="",
        developing_team=[],
    )

    assert response.status_code == 403
    ai_model.refresh_from_db()
    assert (ai_model.risk_tier, ai_model.eu_ai_act_category) == (
        RiskTier.HIGH,
        EUAIActCategory.HIGH_RISK,
    )
    assert ai_model.developing_team.exists()
    assert ai_model.approvals_required == 2


def test_a_developer_cannot_downgrade_open_high_findings_through_the_history_page(
    developer, validator, version
):
    in_validation(version, developer, validator)
    due = timezone.localdate() + dt.timedelta(days=30)
    findings = [
        workflow.record_finding(
            version,
            validator,
            title=f"Weakness {n}",
            description="Found in validation.",
            severity=Severity.HIGH,
            owner=developer,
            due_date=due,
        )
        for n in range(8)
    ]

    refused = [attack(developer, f, severity=Severity.LOW).status_code for f in findings]

    assert refused == [403] * 8
    assert Finding.objects.filter(version=version, severity=Severity.HIGH).count() == 8


def test_a_validator_cannot_reattribute_his_review_to_another_validator_through_the_history_page(
    developer, validator, second_validator, version
):
    in_validation(version, developer, validator)
    mine = review(version, validator)
    workflow.approve_version(version, validator, "Fit for purpose.")

    response = attack(validator, mine, validator=second_validator.pk)

    assert response.status_code == 403
    assert ValidationReview.objects.get(pk=mine.pk).validator == validator
    assert not ValidationReview.objects.filter(version=version, validator=second_validator)


def test_an_auditor_cannot_rename_a_model_or_cut_its_retention_through_the_history_page(
    auditor, risk_officer
):
    model = AIModel.objects.create(
        name="Retail credit scoring",
        slug="credit-scoring",
        risk_tier=RiskTier.HIGH,
        eu_ai_act_category=EUAIActCategory.HIGH_RISK,
        annex_iii_area="essential_services",
        business_owner=risk_officer,
        retention_months=24,
    )

    response = attack(auditor, model, name="Something harmless", retention_months=6)

    assert response.status_code == 403
    model.refresh_from_db()
    assert (model.name, model.retention_months) == ("Retail credit scoring", 24)


def test_a_developer_cannot_switch_off_a_report_schedule_or_its_thresholds_through_the_history_page(
    developer, ai_model
):
    schedule = ReportSchedule.objects.create(model=ai_model)
    thresholds = dict(schedule.thresholds)

    response = attack(
        developer,
        schedule,
        active=False,
        thresholds={**thresholds, "impact_ratio_min": 0, "psi_max": 100},
    )

    assert response.status_code == 403
    schedule.refresh_from_db()
    assert schedule.active
    assert schedule.thresholds == thresholds


def test_a_superuser_cannot_change_anything_through_the_history_page(doors_superuser, ai_model):
    response = attack(doors_superuser, ai_model, risk_tier=RiskTier.LOW, name="Renamed")

    assert response.status_code == 403
    ai_model.refresh_from_db()
    assert (ai_model.name, ai_model.risk_tier) == ("Retail credit scoring", RiskTier.HIGH)


def test_the_history_pages_stay_readable_as_evidence(auditor, ai_model):
    client = logged_in(auditor)
    listing = client.get(f"/admin/compliance/aimodel/{ai_model.pk}/history/")
    page = client.get(history_form_url(ai_model))

    assert (listing.status_code, page.status_code) == (200, 200)
    assert b"Retail credit scoring" in page.content
    assert b'name="_save"' not in page.content  # nothing to submit
