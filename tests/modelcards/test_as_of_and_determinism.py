"""The same document for the same date is the same bytes; a later change does not show; the
workflow, schedules, reports and oversight are read as they stood on the date."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from compliance import workflow
from modelcards.documents import build, render
from modelcards.evidence import EvidenceError
from modelcards.models import DocumentKind
from modelcards.rendering import write_pdf
from tests.modelcards.conftest import AS_OF, GOVERNED, MID_JULY, WINDOW, pdf_info

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def twice(world):
    """The model card as of 30 June (charts, tables, gaps), rendered now and again in 2027."""
    built = build(DocumentKind.MODELCARD, world.model, AS_OF)
    first = render(built)
    with time_machine.travel(dt.datetime(2027, 3, 1, tzinfo=dt.UTC)):
        second = render(build(DocumentKind.MODELCARD, world.model, AS_OF))
    return built, first, second


def test_the_same_document_for_the_same_date_is_byte_identical(twice):
    _, first, second = twice
    assert first.content == second.content
    assert first.sha256 == second.sha256


def test_pdf_dates_and_identifier_come_from_the_document_not_the_clock(twice):
    built, first, _ = twice
    assert "CreationDate:    Tue Jun 30 00:00:00 2026 UTC" in pdf_info(first.content)
    assert f"/ID [({built.digest[:32]})".encode() in first.content


def test_fonts_are_stamped_with_the_document_date_whatever_the_environment(monkeypatch):
    html = "<html><body><p>Same text, same bytes.</p></body></html>"
    moment = dt.datetime(2026, 6, 30, tzinfo=dt.UTC)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1")
    first = write_pdf(html, identifier="abc", moment=moment)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    with time_machine.travel(dt.datetime(2030, 1, 1, tzinfo=dt.UTC)):
        second = write_pdf(html, identifier="abc", moment=moment)
    assert first.content == second.content


def test_a_change_after_the_as_of_date_does_not_show(credit_model):
    before = build(DocumentKind.MODELCARD, credit_model, AS_OF)
    with time_machine.travel(dt.datetime(2026, 7, 15, tzinfo=dt.UTC)):
        credit_model.intended_purpose = "Rank applications for the collections team."
        credit_model.save()
    # The same digest is the same bytes (above): the document of 30 June has not changed.
    assert build(DocumentKind.MODELCARD, credit_model, AS_OF).digest == before.digest
    assert before.evidence["model"]["intended_purpose"].startswith("Estimate the probability")
    later = build(DocumentKind.MODELCARD, credit_model, dt.date(2026, 7, 31))
    assert later.evidence["model"]["intended_purpose"].endswith("for the collections team.")
    assert later.digest != before.digest


def test_decisions_logged_after_the_as_of_date_are_not_counted(credit_model):
    before = build(DocumentKind.SR117, credit_model, dt.date(2026, 6, 9)).evidence
    after = build(DocumentKind.SR117, credit_model, AS_OF).evidence
    assert before["ledger"]["version"]["n"] == 0
    assert before["analytics"]["fairness"] is None
    assert after["ledger"]["version"]["n"] == 600


def test_workflow_records_are_shown_as_they_stood_on_the_date(credit_model):
    def workflow_on(day):
        return build(DocumentKind.VALIDATION, credit_model, day).evidence["workflow"]

    assert workflow_on(AS_OF)["reviews"] == []
    first = workflow_on(dt.date(2026, 7, 2))
    assert [f["status"] for f in first["findings"]] == ["Open"]
    assert [r["validator"] for r in first["approvals"]] == ["victor", "valerie"]
    assert first["deployments"] == []
    later = workflow_on(dt.date(2026, 7, 5))
    assert later["findings"][0]["status"] == "Remediated"
    assert [d["environment"] for d in later["deployments"]] == ["production"]


def test_a_model_that_did_not_exist_yet_has_no_document(credit_model):
    with pytest.raises(EvidenceError, match="was not in the inventory"):
        build(DocumentKind.SR117, credit_model, dt.date(2026, 5, 31))


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
