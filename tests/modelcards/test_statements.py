"""Every statement a document makes is evidence about its version, or a GAP (issue 17, point 3).

The world of ``conftest.py`` goes on: on 1 August the schedule's minimum group size is raised to
50 and version 1.1.0 is registered (its code commit recorded as "demo") and logs decisions
without ever being approved or deployed; on 2 and 3 August a legal hold is placed on the model
and released; on 15 January 2027 the June payloads are past their six months and are purged.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from audit.models import GovernanceEvent, OutcomeRecord
from compliance.models import ModelVersion, ReportSchedule
from compliance.retention import place_legal_hold, purge_expired, release_legal_hold
from modelcards.demo import log_decisions
from modelcards.documents import issue
from modelcards.models import DocumentKind
from tests.modelcards.conftest import GOVERNED, flat

pytestmark = pytest.mark.django_db

AUGUST = dt.date(2026, 8, 10)
AFTER_PURGE = dt.date(2027, 1, 20)


def travel(day: dt.date, hour: int = 10):
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), dt.UTC), tick=False)


@pytest.fixture(scope="module")
def august(world, artifacts):
    """The world after August."""
    rita, devon = world.users["rita"], world.users["devon"]
    with travel(dt.date(2026, 8, 1)):
        schedule = ReportSchedule.objects.get(model=world.model)
        schedule.min_group_size, schedule._history_user = 50, rita
        schedule.save()
        v11 = ModelVersion.objects.create(
            model=world.model, label="1.1.0", feature_pipeline_version="features-2026.07",
            input_schema=world.version.input_schema, code_commit="demo", created_by=devon,
            **artifacts,
        )  # fmt: skip
        log_decisions(v11, 120, start=dt.datetime(2026, 7, 28, tzinfo=dt.UTC), days=3, seed=7)
    with travel(dt.date(2026, 8, 2)):
        hold = place_legal_hold(reason="Complaint 2026-118 under review.", actor=rita,
                                model=world.model)  # fmt: skip
    with travel(dt.date(2026, 8, 3)):
        release_legal_hold(hold, reason="Complaint closed.", actor=rita)


@pytest.fixture(scope="module")
def later(world, sr117_august, sr117_of_1_1_0, annex_of_1_1_0):
    """The January purge, once August's documents are issued (a purge drops what they read)."""
    outcomes = OutcomeRecord.objects.filter(prediction__version=world.version).count()
    with travel(dt.date(2027, 1, 15)):
        purge_expired(actor=world.users["rita"])
    purges = GovernanceEvent.objects.filter(event_type="ledger.purged").count()
    return {"outcomes": outcomes, "purges": purges}


@pytest.fixture(scope="module")
def sr117_after_purge(later, world) -> str:
    with travel(AFTER_PURGE + dt.timedelta(days=1)):
        return flat(issue(DocumentKind.SR117, world.model, as_of=AFTER_PURGE).content)


@pytest.fixture(scope="module")
def sr117_august(august, world) -> str:
    return flat(issue(DocumentKind.SR117, world.model, as_of=AUGUST).content)


@pytest.fixture(scope="module")
def sr117_of_1_1_0(august, world) -> str:
    document = issue(DocumentKind.SR117, world.model, as_of=AUGUST, version_label="1.1.0")
    return flat(document.content)


@pytest.fixture(scope="module")
def annex_of_1_1_0(august, world) -> str:
    document = issue(DocumentKind.ANNEX4, world.model, as_of=AUGUST, version_label="1.1.0")
    return flat(document.content)


@pytest.fixture(scope="module")
def annex_of_1_0_0(world) -> str:
    return flat(issue(DocumentKind.ANNEX4, world.model, as_of=GOVERNED).content)


def test_the_documents_print_the_retention_and_the_purges_not_a_lifetime_of_logs(
    sr117_after_purge, later
):
    text = sr117_after_purge
    assert "lifetime of the system" not in text
    assert "Retention of payloads 6 months after they are sealed" in text
    assert later["purges"] >= 1
    assert (
        f"Purges {later['purges']}, dropping the payloads of 600 predictions and "
        f"{later['outcomes']} outcomes" in text
    )
    assert re.search(r"Purged Sealed before Retention Predictions Outcomes Leaves 2027-01-15", text)


def test_the_documents_print_the_legal_holds_and_the_erasures(sr117_after_purge, sr117_august):
    for text in (sr117_after_purge, sr117_august):
        assert "Legal holds 1 (0 in force)" in text
        assert "the model 2026-08-02" in text and "Complaint 2026-118 under review." in text
        assert "Erasures of data subjects none" in text


def test_a_version_never_deployed_has_no_deployment_record(sr117_of_1_1_0, annex_of_1_1_0):
    for text in (sr117_of_1_1_0, annex_of_1_1_0):
        assert "GAP No deployment of version 1.1.0 on file as of 2026-08-10" in text


def test_annex_iv_says_approved_before_deployment_only_of_a_version_that_was(
    annex_of_1_1_0, annex_of_1_0_0
):
    for text in (annex_of_1_1_0, annex_of_1_0_0):
        assert "validated before deployment" not in text
    assert "Version 1.0.0 was approved before each of its deployments" in annex_of_1_0_0
    assert "Version 1.1.0 was approved" not in annex_of_1_1_0


def test_a_code_commit_that_is_not_a_hash_is_a_gap(sr117_of_1_1_0, annex_of_1_1_0, sr117_august):
    gap = "GAP The version's code commit is not a commit hash (7 to 40 hexadecimal characters)"
    assert "Code commit demo (not a commit hash)" in sr117_of_1_1_0
    assert gap in sr117_of_1_1_0 and gap in annex_of_1_1_0
    assert "Code commit 3f2c1e9 Input schema" in sr117_august and gap not in sr117_august


def test_the_size_of_the_held_out_set_is_not_a_metric(sr117_august, demo_version):
    rows = demo_version.evaluation_metrics["test_rows"]
    assert "test_rows" not in sr117_august
    assert f"Measured on {rows:,} held-out rows." in sr117_august


def test_the_schedules_minimum_group_size_governs_the_whole_document(sr117_august):
    assert "Minimum group size 50 decisions" in sr117_august
    assert "Groups smaller than 50 decisions (the schedule “Daily monitoring”)" in sr117_august
    assert not re.search(r"smaller than 30\b", sr117_august)


def test_a_reports_performance_counts_the_decisions_of_its_window(sr117_august, world):
    report = world.reports[-1]
    counts, performance = report.results["counts"], report.results["performance"]
    assert counts["predictions"] == 600 != performance["n_with_outcome"]
    assert (
        f"Measured on the {performance['n_with_outcome']} decisions of the window whose outcome "
        "had arrived (of 600 decisions in the window)" in sr117_august
    )
