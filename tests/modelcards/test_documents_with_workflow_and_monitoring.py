"""The documents as of 31 July, after the real approval workflow, deployment, monitoring reports
and human oversight of the conftest's timeline; and the same records as of 10 July."""

from __future__ import annotations

import datetime as dt

import pytest

from compliance import workflow
from compliance.models import MonitoringReport
from modelcards.documents import build, render
from modelcards.models import DocumentKind
from tests.modelcards.conftest import (
    CONDITION,
    FINDING,
    GOVERNED,
    MID_JULY,
    OVERRIDE_REASON,
    WINDOW,
    flat,
)

pytestmark = pytest.mark.django_db


def rendered(kind, world):
    built = build(kind, world.model, GOVERNED)
    return built, flat(render(built).content)


@pytest.fixture(scope="module")
def validation(world):
    return rendered(DocumentKind.VALIDATION, world)


@pytest.fixture(scope="module")
def annex4(world):
    return rendered(DocumentKind.ANNEX4, world)


@pytest.fixture(scope="module")
def model_card(world):
    return rendered(DocumentKind.MODELCARD, world)


@pytest.fixture(scope="module")
def sr117(world):
    return rendered(DocumentKind.SR117, world)


def latest(world) -> MonitoringReport:
    return world.reports[-1]


def test_the_validation_report_is_complete_from_the_workflow_and_the_reports(validation, world):
    built, text = validation
    assert built.coverage.gaps == [] and "GAP" not in text
    reviews = text.split("1.2 Reviews and their scope")[-1].split("2 Independence")[0]
    for validator in ("victor", "valerie"):
        assert f"{validator} 1 Initial validation of 1.0.0" in reviews
    assert reviews.count("Approve with conditions 2026-07-02 10:00:00 UTC") == 2
    assert "Every validator of version 1.0.0 is independent of it" in text
    assert "State of version 1.0.0 as of 2026-07-31: Approved with conditions" in text
    assert "Approval valid until 2027-07-02 10:00:00 UTC" in text
    assert FINDING in text and "Remediated by valerie on 2026-07-05 10:00:00 UTC" in text
    assert CONDITION in text
    report = latest(world)
    assert f"Latest fairness report: monitoring report #{report.pk} of version 1.0.0" in text
    for breach in report.breaches:
        assert breach["message"] in text


def test_the_findings_monitors_opened_are_in_the_validation_report(validation, world):
    _, text = validation
    for breach in latest(world).breaches:
        title = f"Monitoring: {breach['metric'].replace('_', ' ')} of {breach['subject']}"
        assert title in text


def test_annex_iv_prints_the_oversight_recorded_in_the_ledger(annex4, world):
    built, text = annex4
    oversight = text.split("3.4 Human oversight measures (Article 14)")[-1].split("3.5 ")[0]
    assert "Oversight events before the cut-off 2" in oversight
    assert "Decisions overridden or reversed 1 of 600 logged decisions (0.17%)" in oversight
    assert world.overridden in oversight and "0 → 1" in oversight
    assert OVERRIDE_REASON in oversight
    assert "uma.underwriter" in oversight and "recorded by" in oversight
    assert "scoring-service" in oversight
    assert "workflow.oversight" not in [i.key for i in built.coverage.items if not i.present]


def test_annex_iv_2g_and_point_9_come_from_the_reports_and_schedules(annex4, world):
    _, text = annex4
    point = text.split("2(g) Validation and testing")[-1].split("2(h) Cybersecurity")[0]
    assert "Discriminatory impact, from the latest scheduled fairness report" in point
    assert f"monitoring report #{latest(world).pk}" in point
    assert "2 monitoring reports stored for this model before the cut-off" in point
    plan = text.split("9. Post-market monitoring plan")[-1]
    assert "Schedule “Daily monitoring”" in plan
    assert "the last 10 days of logged decisions, daily (every 24 h)" in plan
    assert "Demographic parity difference, at most 0.020 schedule" in plan
    assert "changed thresholds" in plan and "rita" in plan
    assert "Findings opened by the monitors" in plan
    for gap in ("No fairness report", "No active monitoring schedule", "No drift report"):
        assert gap not in text


def test_the_model_card_gives_intersectional_results_from_the_latest_report(model_card, world):
    _, text = model_card
    analyses = text.split("7.2 Intersectional results")[-1].split("7.3 ")[0]
    assert "Selection rates by sex & age_band" in analyses
    assert "sex=F & age_band=18-24" in analyses
    assert "Error rates by sex & age_band" in analyses
    groups = latest(world).results["fairness"]["attributes"][0]["groups"]
    assert f"{groups[0]['selection_rate'] * 100:.1f}%" in analyses
    assert "Latest performance report" in text


def test_the_sr117_monitoring_plan_has_the_schedule_reports_and_approvals(sr117, world):
    built, text = sr117
    plan = text.split("8 Ongoing monitoring plan")[-1].split("9 Model inventory entry")[0]
    assert "Schedule “Daily monitoring”" in plan
    assert "2 monitoring reports stored for this model before the cut-off, 2 with at least" in plan
    for heading in ("Latest fairness report", "Latest drift report", "Latest performance report"):
        assert heading in plan
    assert "The approval of version 1.0.0 expires 2027-07-02 10:00:00 UTC" in plan
    assert "production champion" in text and "Go-live of 1.0.0." in text
    missing = [i.key for i in built.coverage.items if not i.present]
    assert not [k for k in missing if k.startswith(("monitoring.", "workflow."))], missing


def test_as_of_mid_july_the_first_schedule_and_report_are_shown(world):
    e = build(DocumentKind.VALIDATION, world.model, MID_JULY).evidence
    monitoring = e["monitoring"]
    (schedule,) = monitoring["active"]
    parity = next(t for t in schedule["thresholds"] if t["key"].startswith("demographic_parity"))
    assert (parity["value"], parity["set"]) == (0.1, False)
    assert monitoring["reports_total"] == 1
    assert monitoring["fairness_report"]["id"] == world.reports[0].pk
    assert [c["what"] for c in monitoring["changes"]] == ["created"]
    assert [f["status"] for f in e["workflow"]["findings"] if not f["by_monitor"]] == ["Remediated"]


def test_as_of_the_end_of_july_the_changed_schedule_and_the_second_report_are_shown(world):
    monitoring = build(DocumentKind.VALIDATION, world.model, GOVERNED).evidence["monitoring"]
    (schedule,) = monitoring["active"]
    parity = next(t for t in schedule["thresholds"] if t["key"].startswith("demographic_parity"))
    assert (parity["value"], parity["set"]) == (0.02, True)
    assert monitoring["latest_report"]["id"] == world.reports[-1].pk
    assert monitoring["changes"][-1] == {
        "at": "2026-07-20 10:00:00 UTC",
        "schedule": "Daily monitoring",
        "by": "rita",
        "what": "changed thresholds",
        "reason": "",
    }


def test_the_override_rate_counts_as_the_workflow_counts_it(world):
    oversight = build(DocumentKind.ANNEX4, world.model, GOVERNED).evidence["workflow"]["oversight"]
    rate = workflow.override_rate(world.model, WINDOW[0], WINDOW[1])
    assert (oversight["decisions"], oversight["overridden"]) == (rate.predictions, rate.overridden)
    assert oversight["total"] == 2
    before = build(DocumentKind.ANNEX4, world.model, dt.date(2026, 7, 4)).evidence["workflow"]
    assert before["oversight"]["total"] == 0 and before["oversight"]["overridden"] == 0
