"""The validation report counts content, not presence, and shows apart what is dated after the
approval: read back from its PDF, as of 31 July, with the demo's substantive reviews."""

from __future__ import annotations

import pytest

from compliance.models import Finding
from modelcards.documents import build, render
from modelcards.models import DocumentKind
from tests.modelcards.conftest import FINDING, GOVERNED, flat

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def report(world):
    built = build(DocumentKind.VALIDATION, world.model, GOVERNED)
    return built, flat(render(built).content)


def test_reviews_in_their_own_words_citing_evidence_count_as_substance(report):
    built, text = report
    present = {item.key for item in built.coverage.items if item.present}
    assert {"workflow.substance", "workflow.benchmark"} <= present
    assert "not substantiated" not in text
    assert "Evidence relied on: manifest sha256:" in text


def test_each_validators_benchmark_table_is_printed(report, trained):
    _, text = report
    assert "against a majority-class baseline" in text
    assert "against a depth-3 decision tree challenger" in text
    assert "Metric Model Benchmark roc_auc" in text
    auc = trained.metrics["roc_auc"]
    assert f"roc_auc {round(auc, 4)} 0.5 " in text  # the bundle's own hold-out AUC


def test_ratings_issues_recommendations_and_sensitivity_are_printed(report, world):
    _, text = report
    assert "1.3 Ratings by element" in text
    finding = Finding.objects.get(version=world.version, title=FINDING)  # its id is not 1 on PG
    assert f"#{finding.pk} {FINDING} (Medium, remediated)" in text  # victor's
    assert "Recommendations. Revalidate after the first quarter" in text
    assert "Sensitivity and stability. Refitted on five bootstrap resamples" in text
    assert "Sensitivity and stability. Not run by this validator." in text


def test_evidence_dated_after_the_approval_is_shown_apart(report, world):
    _, text = report
    main, later = text.rsplit("9 Evidence dated after the approval", 1)  # not the contents
    later = later.split("10 Governance events in the ledger", 1)[0]
    # Every monitoring report ran after the approval of 2 July: none is shown as seen.
    assert "dated after the approval of 2026-07-02 16:00:00 UTC" in main
    for r in world.reports:
        assert f"{r.content_sha256[:12]}" in later
    # The monitor's finding of 25 July is listed apart, not among the validators' findings.
    monitor = [f for f in world.version.findings.all() if f.raised_by_id is None]
    assert monitor
    for f in monitor:  # (a long title wraps in its table cell: its start is enough)
        start = f.title.split(" of ")[0]
        assert start in later
        assert start not in main.split("6 Findings", 1)[1]
