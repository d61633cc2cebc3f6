"""GET /api/v1/reports/{id}/pdf/: one monitoring report as a PDF, read back with pdftotext."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from compliance.choices import KeyAction
from compliance.keys import issue_key
from modelcards import monitoring
from tests.modelcards.conftest import flat, pdf_text

pytestmark = pytest.mark.django_db


def url(report) -> str:
    return f"/api/v1/reports/{report.pk}/pdf/"


@pytest.fixture(scope="module")
def response(world):
    """audrey (the auditor) downloads the second report, the one that breached."""
    client = APIClient()
    _, key = issue_key(
        user=world.users["audrey"], all_models=True, actions=[KeyAction.READ_REPORTS], name="test"
    )
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client.get(url(world.reports[-1]))


@pytest.fixture(scope="module")
def text(response) -> str:
    return flat(response.content)


def test_an_auditor_downloads_the_pdf_of_a_report(response, world):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-SHA256"] == hashlib.sha256(response.content).hexdigest()
    assert monitoring.filename(world.reports[-1]) in response["Content-Disposition"]


def test_it_has_its_headings_and_the_reports_identity(text, world):
    report = world.reports[-1]
    for heading in ("1 Summary", "1.1 Result", "2 Fairness", "2.1 Selection rate by group",
                    "2.2 Intersections of two attributes", "2.3 Error rates by group",
                    "3 Drift", "3.1 Population stability index by feature", "4 Performance",
                    "4.2 Over time", "5 Verifying this report"):  # fmt: skip
        assert heading in text
    assert f"#{report.pk}, content SHA-256" in text
    assert report.content_sha256 in text.replace(" ", "")  # hashes wrap anywhere
    assert "Decisions of 2026-06-01 00:00:00 UTC to 2026-06-10 00:00:00 UTC" in text
    assert "by the schedule “Daily monitoring”" in text


def test_every_breach_is_printed_with_its_message(text, world):
    report = world.reports[-1]
    assert f"{len(report.breaches)} breaches" in text
    for breach in report.breaches:
        assert breach["message"] in text
    assert "Demographic parity difference, at most 0.020" in text


def test_it_prints_the_numbers_of_the_report(text, world):
    results = world.reports[-1].results
    assert f"Decisions in the window {results['counts']['predictions']:,}" in text
    sex = results["fairness"]["attributes"][0]
    for group in sex["groups"]:
        low, high = group["intervals"]["selection_rate"]
        rate = f"{group['selection_rate'] * 100:.1f}%"
        assert (
            f"{group['label']} {group['count']:,} {rate} {low * 100:.1f}% – {high * 100:.1f}%"
            in text
        )
    for feature in results["drift"]:
        assert f"{feature['feature']} {feature['n']:,} {feature['psi']:.4f}" in text
    accuracy = results["performance"]["accuracy"]
    assert f"{accuracy:.4f}" in text


def test_it_says_how_its_intervals_are_made(text, world):
    assert (
        "A group's interval is a 95% stratified bootstrap interval; a disparity's is the widest "
        "of the 95% Newcombe intervals for every pair of groups, Bonferroni-adjusted over the "
        "pairs." in text
    )
    disparity = world.reports[-1].results["fairness"]["attributes"][0]["disparity"]
    low, high = disparity["intervals"]["demographic_parity_difference"]
    assert f"(95% interval {low:.3f} to {high:.3f})" in text


def test_the_charts_have_confidence_bars_the_four_fifths_line_and_the_trend(text):
    assert "Selection rate by sex" in text and "four-fifths of highest" in text
    assert "Population stability index against the training baseline" in text
    assert "Performance on arrived outcomes, report by report" in text
    assert "accuracy, 1.0.0" in text and "ROC AUC, 1.0.0" in text


def test_the_trend_holds_the_reports_up_to_this_one_only(world):
    first, second = world.reports
    assert [r["report"] for r in monitoring.trend_facts(first)["rows"]] == [first.pk]
    assert [r["report"] for r in monitoring.trend_facts(second)["rows"]] == [first.pk, second.pk]


def test_the_pdf_needs_credentials_and_a_role_that_reads_reports(
    api, client, world, service, outsider, developer
):
    report = world.reports[0]
    assert client.get(url(report)).status_code == 401
    assert api.as_(service).get(url(report)).status_code == 403
    assert api.as_(outsider).get(url(report)).status_code == 403
    assert api.as_(developer).get("/api/v1/reports/999999/pdf/").status_code == 404


def test_render_monitoring_report_writes_the_same_bytes_as_the_api_served(
    response, world, tmp_path
):
    out = tmp_path / "report.pdf"
    output = StringIO()
    call_command("render_monitoring_report", "--model", "credit-scoring", "--out", str(out),
                 stdout=output)  # fmt: skip
    assert out.read_bytes() == response.content  # rendered again: the same report, the same bytes
    assert f"Monitoring report {world.reports[-1].pk} (" in output.getvalue()
    pages = pdf_text(response.content).split("\f")[:-1]
    assert all(monitoring.reference(world.reports[-1]) in page for page in pages)
    with pytest.raises(CommandError, match="No monitoring report 999999"):
        call_command("render_monitoring_report", "--report", "999999", "--out", str(out))
