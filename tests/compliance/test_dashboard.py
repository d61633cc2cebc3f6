"""The risk officer's dashboard: what it counts, that every number opens the list of exactly
what it counted, who sees it, and that it never reads the ledger's predictions."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.ledger import raise_alert
from audit.models import Alert, Checkpoint, VerificationRun
from compliance import workflow
from compliance.choices import EUAIActCategory, RiskTier, Severity
from compliance.dashboard import Figure
from compliance.models import AIModel, MonitoringReport, PredictionVolume
from tests.compliance.test_workflow_support import deployed, in_validation, new_version

pytestmark = pytest.mark.django_db

BREACH = {
    "check": "fairness",
    "metric": "impact_ratio",
    "subject": "sex=F",
    "value": 0.62,
    "threshold": 0.8,
    "message": "Impact ratio of sex=F is 0.62, below 0.8.",
    "key": "fairness:impact_ratio:sex=F",
}


def report(version, *breaches) -> MonitoringReport:
    now = timezone.now()
    return MonitoringReport.objects.create(
        model=version.model,
        version=version,
        window_start=now - dt.timedelta(days=7),
        window_end=now,
        checks=["fairness", "drift", "performance"],
        thresholds={},
        min_group_size=30,
        results={},
        breaches=list(breaches),
        passed=not breaches,
        content_sha256="0" * 64,
        created_at=now,
    )


@pytest.fixture
def estate(ai_model, developer, risk_officer, validator, second_validator):
    """A champion in production with a failing fairness check and an open alert, a retrain in
    validation with an overdue high finding, and a second, minimal-risk model."""
    champion = new_version(ai_model, developer, "1.0.0")
    deployed(champion, developer, risk_officer, validator, second_validator)
    retrain = in_validation(new_version(ai_model, developer, "1.1.0"), developer, validator)
    workflow.record_finding(
        retrain,
        validator,
        title="Bias against sex=F",
        description="Impact ratio 0.62.",
        severity=Severity.HIGH,
        owner=developer,
        due_date=timezone.localdate(),
    )
    report(champion)
    failing = report(champion, BREACH)
    raise_alert(
        Alert.Kind.FAIRNESS_BREACH, model=ai_model, subject="sex=F", message=BREACH["message"]
    )
    chatbot = AIModel.objects.create(
        name="Support chatbot",
        slug="chatbot",
        risk_tier=RiskTier.LOW,
        eu_ai_act_category=EUAIActCategory.MINIMAL,
    )
    today = timezone.localdate()
    PredictionVolume.objects.create(
        model=ai_model, version=champion, day=today, environment="production", predictions=1200
    )
    PredictionVolume.objects.create(
        model=ai_model,
        version=champion,
        day=today - dt.timedelta(days=1),
        environment="production",
        predictions=800,
    )
    return {"champion": champion, "retrain": retrain, "failing": failing, "chatbot": chatbot}


def figures(dashboard) -> list[Figure]:
    cells = [cell for row in dashboard.inventory for cell in [*row["cells"], row["total"]]]
    return [
        *cells,
        dashboard.inventory_total,
        *dashboard.work,
        *dashboard.checks,
        dashboard.alerts,
        *dashboard.alerts_by_kind,
    ]


def test_the_risk_officer_sees_what_needs_attention(client, estate, risk_officer):
    client.force_login(risk_officer)
    d = client.get("/admin/").context["dashboard"]
    work = {f.label: f.count for f in d.work}
    assert work["Versions in validation"] == 1
    assert work["Open high-severity findings"] == 1
    assert work["Findings overdue"] == 0  # due today, not yet overdue
    assert {f.label: f.count for f in d.checks} == {
        "Failing fairness checks": 1,
        "Failing drift checks": 0,
        "Failing performance checks": 0,
    }
    assert d.failing_reports == [estate["failing"]]
    assert d.alerts.count == 1 and [a.subject for a in d.open_alerts] == ["sex=F"]
    tier1 = d.inventory[0]
    assert tier1["total"].count == 1 and tier1["cells"][1].count == 1  # high-risk column
    assert d.inventory_total.count == 2


def test_every_number_opens_the_list_of_exactly_what_it_counted(client, estate, risk_officer):
    client.force_login(risk_officer)
    d = client.get("/admin/").context["dashboard"]
    for figure in figures(d):
        listed = client.get(figure.url)
        assert listed.status_code == 200, figure
        assert listed.context["cl"].result_count == figure.count, figure


def test_overdue_items_are_counted_once_their_day_has_passed(client, estate, risk_officer):
    client.force_login(risk_officer)
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        d = client.get("/admin/").context["dashboard"]
        overdue = next(f for f in d.work if f.label == "Findings overdue")
        assert overdue.count == 1
        assert client.get(overdue.url).context["cl"].result_count == 1


def test_prediction_volume_is_charted_per_model_per_day_with_links(client, estate, risk_officer):
    client.force_login(risk_officer)
    response = client.get("/admin/")
    (series,) = response.context["dashboard"].volumes
    assert series["model"].slug == "credit-scoring" and series["total"].count == 2000
    html = response.content.decode()
    assert "<svg" in html and "1,200 predictions" in html and "800 predictions" in html
    today = timezone.localdate()
    assert f"decided_at__day={today.day}" in str(series["chart"])


def test_the_dashboard_never_reads_the_predictions_of_the_ledger(client, estate, risk_officer):
    client.force_login(risk_officer)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/").status_code == 200
    assert not [q["sql"] for q in queries if "audit_predictionrecord" in q["sql"]]
    assert len(queries) < 40


def test_the_ledger_box_shows_the_latest_checkpoint_and_verification(client, estate, risk_officer):
    client.force_login(risk_officer)
    assert "never verified" in client.get("/admin/").content.decode()
    Checkpoint.objects.create(
        tree_size=42,
        root_hash=b"\0" * 32,
        issued_at=timezone.now(),
        log_id="attest",
        key_id="k",
        signature=b"\0" * 64,
    )
    VerificationRun.objects.create(ok=False, entries=42, checkpoints=1, message="leaf 7 differs")
    d = client.get("/admin/").context["dashboard"]
    assert d.checkpoint.tree_size == 42 and d.verification.ok is False
    assert "FAILED" in client.get("/admin/").content.decode()


def test_auditors_see_the_dashboard_without_acknowledge_buttons(client, estate, auditor):
    client.force_login(auditor)
    response = client.get("/admin/")
    assert response.context["dashboard"].alerts.count == 1
    assert "/act/acknowledge/" not in response.content.decode()


def test_developers_and_validators_get_the_plain_index(client, estate, developer, validator):
    for person in (developer, validator):
        client.force_login(person)
        response = client.get("/admin/")
        assert response.status_code == 200 and "dashboard" not in response.context


def test_the_dashboard_needs_a_login(client):
    assert client.get("/admin/").status_code == 302
