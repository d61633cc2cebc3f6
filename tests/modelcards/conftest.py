"""The demo credit-scoring model through its first two months, built once per test module, and
how to read a PDF back.

``world`` is built by the real workflow, ingest, sequencer and monitoring code, inside a
transaction that is rolled back after the module's last test; each test runs in a savepoint of
it, so what a test changes is undone after it while the world is built once. Expensive PDFs are
rendered by module-scoped fixtures, so the tests that read one share it.

Timeline (UTC):

    2026-06-01  the model and version 1.0.0 are registered by devon
    2026-06-10  600 decisions of 1 to 9 June are logged (about 60% with an outcome) and sealed
    2026-06-30  AS_OF: nothing validated, deployed, scheduled or overseen yet: gaps
    2026-07-01  devon submits 1.0.0; victor takes it into validation
    2026-07-02  victor: review, a medium finding, a condition, approval; valerie: review, approval
    2026-07-03  rita deploys it to production and schedules daily monitoring (10-day window)
    2026-07-04  report 1 over the logged decisions
    2026-07-05  rita overrides the latest declined decision, the scoring service confirms the
                first approved one for an underwriter; valerie confirms the finding remediated
    2026-07-10  MID_JULY
    2026-07-20  rita tightens the schedule's demographic parity threshold to 0.02
    2026-07-25  report 2 over the same decisions breaches it; the monitor opens a finding
    2026-07-31  GOVERNED: all of the above on file
"""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings

from audit.models import PredictionRecord
from audit.sequencer import seal_all
from compliance import demo, workflow
from compliance.choices import AnnexIIIArea, Conclusion, EUAIActCategory, RiskTier, Role, Severity
from compliance.models import AIModel, ModelVersion, MonitoringReport, ReportSchedule
from compliance.reports import run_report
from modelcards.demo import log_decisions
from tests.conftest import make_user

REGISTERED = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
LOGGED = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)  # when the decisions reach the ledger
AS_OF = dt.date(2026, 6, 30)
MID_JULY = dt.date(2026, 7, 10)
GOVERNED = dt.date(2026, 7, 31)
WINDOW = (dt.datetime(2026, 6, 1, tzinfo=dt.UTC), dt.datetime(2026, 6, 10, tzinfo=dt.UTC))
USERS = {
    "rita": Role.RISK_OFFICER,
    "victor": Role.VALIDATOR,
    "valerie": Role.VALIDATOR,
    "audrey": Role.AUDITOR,
    "devon": Role.DEVELOPER,
    "scoring-service": Role.SERVICE,
    "otto": None,
}
# A review without substance: one-line texts, citing nothing, benchmarking nothing.
REVIEW = {
    "scope": "Initial validation of 1.0.0: data, design, performance and fairness.",
    "conceptual_soundness": "Logistic regression on six bureau features; monotone and documented.",
    "conceptual_soundness_conclusion": Conclusion.SATISFACTORY,
    "ongoing_monitoring": "Daily fairness, drift and performance reports against the baselines.",
    "ongoing_monitoring_conclusion": Conclusion.SATISFACTORY,
    "outcomes_analysis": "Back-tested on the June outcomes: ROC AUC close to validation.",
    "outcomes_analysis_conclusion": Conclusion.SATISFACTORY,
}
FINDING = "Thin-file applicants are scored low"
CONDITION = "Report approval rates by age band to the risk committee monthly until December."
OVERRIDE_REASON = "Payslip shows a higher income than the bureau; the applicant qualifies."


# Modules whose module-scoped PDFs cost most, run first: pytest-xdist hands each worker runs of
# consecutive tests, so a module at the front is run (and its PDFs laid out) by one worker only.
HEAVIEST_FIRST = (
    "test_evidence_pack.py",
    "test_monitoring_report_pdf.py",
    "test_sr117_documentation.py",
    "test_annex4_model_card_and_validation.py",
)


def pytest_collection_modifyitems(items):
    """Put the heaviest modules of this directory first among its tests (others keep their
    place and order)."""
    here = [i for i, item in enumerate(items) if item.path.parent.name == "modelcards"
            and item.path.parent.parent.name == "tests"]  # fmt: skip
    ours = [items[i] for i in here]

    def rank(item):
        name = item.path.name
        return HEAVIEST_FIRST.index(name) if name in HEAVIEST_FIRST else len(HEAVIEST_FIRST)

    for i, item in zip(here, sorted(ours, key=rank), strict=True):  # sorted() keeps order
        items[i] = item


def pdf_text(content: bytes) -> str:
    """The text of a PDF as pdftotext reads it (poppler-utils: see the Makefile)."""
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=bytes(content), capture_output=True, check=True
    )
    return result.stdout.decode()


def flat(content: bytes) -> str:
    """The PDF's text with every run of whitespace as one space: phrases survive line breaks."""
    return " ".join(pdf_text(content).split())


def pdf_info(content: bytes) -> str:
    result = subprocess.run(["pdfinfo", "-"], input=bytes(content), capture_output=True, check=True)
    return result.stdout.decode()


@pytest.fixture(scope="session")
def trained():
    """The demo model trained once per run on 4,000 rows."""
    return demo.train(4000)


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory, trained):
    """The trained demo model's bundle fields."""
    bundle = demo.save_artifacts(trained, tmp_path_factory.mktemp("artifacts"), "1.0.0")
    return {
        **bundle,
        "configuration": {"C": 1.0, "max_iter": 500, "solver": "lbfgs"},
        "evaluation_metrics": trained.metrics,
        "baselines": demo.baselines(trained),
    }


@dataclass
class World:
    model: AIModel
    version: ModelVersion
    users: dict
    logged: list[str]  # event ids, in decision order
    overridden: str
    confirmed: str
    reports: list[MonitoringReport]


@contextlib.contextmanager
def rolled_back():
    """A transaction undone at the end, as Django's TestCase wraps its class-level data."""
    atomic = transaction.atomic()
    atomic._from_testcase = True  # durable blocks nest in it, as in a TestCase
    atomic.__enter__()
    try:
        yield
    finally:
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


def at(day: int, month: int = 7, hour: int = 10):
    return time_machine.travel(dt.datetime(2026, month, day, hour, tzinfo=dt.UTC), tick=False)


FAST_HASHER = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


def build_world(artifacts, reviews: Callable[[ModelVersion], list[dict]]) -> World:
    """The timeline above; ``reviews(version)`` gives victor's and valerie's."""
    with FAST_HASHER:
        users = {name: make_user(name, role) for name, role in USERS.items()}
    rita, victor, valerie, devon = (users[n] for n in ("rita", "victor", "valerie", "devon"))
    with time_machine.travel(REGISTERED, tick=False):
        model = AIModel.objects.create(
            name="Retail credit scoring",
            slug="credit-scoring",
            description="Scores applications for unsecured personal loans.",
            intended_purpose="Estimate the probability that an applicant repays the loan.",
            intended_users="Retail credit underwriters.",
            domain="Retail credit",
            business_owner=rita,
            risk_tier=RiskTier.HIGH,
            eu_ai_act_category=EUAIActCategory.HIGH_RISK,
            annex_iii_area=AnnexIIIArea.ESSENTIAL_SERVICES,
            sensitive_attributes=["sex", "age_band"],
        )
        model.developing_team.add(devon)
        version = ModelVersion.objects.create(
            model=model,
            label="1.0.0",
            feature_pipeline_version="features-2025.12",
            input_schema=demo.input_schema(),
            code_commit="3f2c1e9",
            created_by=devon,
            **artifacts,
        )
    with time_machine.travel(LOGGED, tick=False):
        logged = log_decisions(version, 600, start=WINDOW[0], days=8, explain=True)
        seal_all()

    with at(1):
        version = workflow.submit_version(version, devon, "Ready for validation.")
        version = workflow.start_validation(version, victor)
    with at(2):
        victors, valeries = reviews(version)
        workflow.record_review(version, victor, **victors)
        finding = workflow.record_finding(
            version, victor, title=FINDING, severity=Severity.MEDIUM, owner=devon,
            description="Applicants with under two years of history are declined far more often.",
            due_date=dt.date(2026, 8, 31),
        )  # fmt: skip
        workflow.add_condition(
            version, victor, description=CONDITION, due_date=dt.date(2026, 12, 31)
        )
        version = workflow.approve_version(version, victor, "Sound; monitoring in place.")
    with at(2, hour=16):
        workflow.record_review(version, valerie, **valeries)
        version = workflow.approve_version(version, valerie, "Agree with victor.")
    with at(3):
        workflow.deploy_version(version, rita, reason="Go-live of 1.0.0.")
        schedule = ReportSchedule.objects.create(
            model=model, name="Daily monitoring", window_days=10, cadence_hours=24
        )
    with at(4):
        reports = run_report(model, start=WINDOW[0], end=WINDOW[1], schedule=schedule)
    with at(5):
        # The latest declined decision (it has an outcome): what --latest-declined picks.
        decisions = PredictionRecord.objects.filter(version=version).order_by("-decided_at", "-pk")
        overridden = str(decisions.filter(favourable=False).first().event_id)
        confirmed = str(decisions.filter(favourable=True).last().event_id)
        workflow.record_oversight(
            rita, "override", event_id=overridden, decision=1, reason=OVERRIDE_REASON
        )
        workflow.record_oversight(
            users["scoring-service"], "confirm", event_id=confirmed, person="uma.underwriter",
            reason="Checked the documents.",
        )  # fmt: skip
        workflow.resolve_finding(
            finding, valerie, status="remediated",
            resolution="History under two years now routed to underwriters.",
        )  # fmt: skip
        seal_all()
    with at(20):
        schedule.thresholds = {"demographic_parity_difference_max": 0.02}
        schedule._history_user = rita
        schedule.save()
    with at(25):
        reports += run_report(model, start=WINDOW[0], end=WINDOW[1], schedule=schedule)
        seal_all()
    version.refresh_from_db()
    return World(model, version, users, logged, overridden, confirmed, reports)


# The documents' tests read the world in the autumn after it, whatever today's date is: "as of
# today", "expired", "overdue" and "in the future" then mean the same on every day they run.
READ_ON = dt.datetime(2026, 9, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module", autouse=True)
def _read_in_the_autumn_after_the_world():
    with time_machine.travel(READ_ON, tick=True):
        yield


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, artifacts, trained) -> World:
    """The timeline above, built once per module and rolled back after it."""
    with django_db_blocker.unblock(), rolled_back():
        yield build_world(artifacts, lambda version: demo.reviews(version, trained))


def _user(name: str):
    return get_user_model().objects.get(username=name)


# The personas of tests/conftest.py, as the world created them.


@pytest.fixture
def risk_officer(world, db):
    return _user("rita")


@pytest.fixture
def validator(world, db):
    return _user("victor")


@pytest.fixture
def second_validator(world, db):
    return _user("valerie")


@pytest.fixture
def auditor(world, db):
    return _user("audrey")


@pytest.fixture
def developer(world, db):
    return _user("devon")


@pytest.fixture
def service(world, db):
    return _user("scoring-service")


@pytest.fixture
def outsider(world, db):
    return _user("otto")


@pytest.fixture
def credit_model(world, db) -> AIModel:
    return AIModel.objects.get(pk=world.model.pk)


@pytest.fixture
def demo_version(world, db) -> ModelVersion:
    return ModelVersion.objects.get(pk=world.version.pk)
