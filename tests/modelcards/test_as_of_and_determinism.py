"""The same document for the same date is the same bytes; a later change does not show."""

from __future__ import annotations

import datetime as dt

import time_machine

from modelcards.documents import build, issue, render
from modelcards.models import DocumentKind
from modelcards.rendering import write_pdf
from tests.audit.conftest import committed
from tests.modelcards.conftest import AS_OF, pdf_info, pdf_text

pytestmark = committed


def test_the_same_document_for_the_same_date_is_byte_identical(credit_model, logged):
    first = render(build(DocumentKind.SR117, credit_model, AS_OF))
    with time_machine.travel(dt.datetime(2027, 3, 1, tzinfo=dt.UTC)):
        second = render(build(DocumentKind.SR117, credit_model, AS_OF))
    assert first.content == second.content
    assert first.sha256 == second.sha256


def test_pdf_dates_and_identifier_come_from_the_document_not_the_clock(credit_model, logged):
    built = build(DocumentKind.MODELCARD, credit_model, AS_OF)
    content = render(built).content
    assert "CreationDate:    Tue Jun 30 00:00:00 2026 UTC" in pdf_info(content)
    assert f"/ID [({built.digest[:32]})".encode() in content


def test_fonts_are_stamped_with_the_document_date_whatever_the_environment(monkeypatch):
    html = "<html><body><p>Same text, same bytes.</p></body></html>"
    moment = dt.datetime(2026, 6, 30, tzinfo=dt.UTC)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1")
    first = write_pdf(html, identifier="abc", moment=moment)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    with time_machine.travel(dt.datetime(2030, 1, 1, tzinfo=dt.UTC)):
        second = write_pdf(html, identifier="abc", moment=moment)
    assert first.content == second.content


def test_a_change_after_the_as_of_date_does_not_show(credit_model, logged, risk_officer):
    with time_machine.travel(dt.datetime(2026, 7, 15, tzinfo=dt.UTC)):
        credit_model.intended_purpose = "Rank applications for the collections team."
        credit_model.save()
    then = " ".join(
        pdf_text(issue(DocumentKind.MODELCARD, credit_model, as_of=AS_OF).content).split()
    )
    later = issue(DocumentKind.MODELCARD, credit_model, as_of=dt.date(2026, 7, 31))
    now = " ".join(pdf_text(later.content).split())
    assert "Estimate the probability that an applicant repays" in then
    assert "collections team" not in then
    assert "collections team" in now


def test_decisions_logged_after_the_as_of_date_are_not_counted(credit_model, demo_version, logged):
    before = build(DocumentKind.SR117, credit_model, dt.date(2026, 6, 9)).evidence
    after = build(DocumentKind.SR117, credit_model, AS_OF).evidence
    assert before["ledger"]["version"]["n"] == 0
    assert before["analytics"]["fairness"] is None
    assert after["ledger"]["version"]["n"] == 600


def test_a_model_that_did_not_exist_yet_has_no_document(credit_model):
    import pytest

    from modelcards.evidence import EvidenceError

    with pytest.raises(EvidenceError, match="was not in the inventory"):
        build(DocumentKind.SR117, credit_model, dt.date(2026, 5, 31))
