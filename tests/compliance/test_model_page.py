"""A model's page: its timeline from the ledger, its evidence coverage per framework and its
readiness scorecard; linked from the model's record and the dashboard."""

from __future__ import annotations

import pytest

from audit.ledger import acknowledge_alert, raise_alert
from audit.models import Alert
from compliance import workflow
from tests.compliance.test_workflow_support import deployed, new_version

pytestmark = pytest.mark.django_db


def page(model) -> str:
    return f"/admin/compliance/aimodel/{model.pk}/overview/"


@pytest.fixture
def history(ai_model, developer, risk_officer, validator, second_validator):
    first = new_version(ai_model, developer, "1.0.0")
    deployed(first, developer, risk_officer, validator, second_validator)
    second = new_version(ai_model, developer, "1.1.0")
    deployed(second, developer, risk_officer, validator, second_validator)
    workflow.rollback(ai_model, "production", risk_officer, "1.1.0 declines too many.")
    alert = raise_alert(Alert.Kind.DRIFT_BREACH, model=ai_model, subject="income", message="PSI")
    acknowledge_alert(alert, risk_officer, "Seasonal; watching.")
    return ai_model


def test_the_timeline_shows_everything_that_happened_to_the_model(client, history, auditor):
    client.force_login(auditor)
    response = client.get(page(history))
    assert response.status_code == 200
    kinds = [e.event_type for e in response.context["timeline"]]
    for expected in (
        "version.submitted",
        "review.recorded",
        "version.approved",
        "deployment.deployed",
        "deployment.rolled_back",
        "alert.drift_breach",
        "alert.acknowledged",
    ):
        assert expected in kinds, expected
    assert kinds[0] == "alert.acknowledged"  # latest first
    html = response.content.decode()
    assert "1.1.0 declines too many." in html and "Seasonal; watching." in html


def test_the_page_shows_coverage_per_framework_and_the_scorecard(client, history, risk_officer):
    client.force_login(risk_officer)
    context = client.get(page(history)).context
    frameworks = [c.framework for c in context["coverage"]]
    assert frameworks == ["SR 11-7", "EU AI Act", "Model card"]
    answers = {a.key: a for a in context["answers"]}
    assert len(answers) == 10
    assert answers["deploy"].yes  # a rollback is on record
    assert not answers["cost"].yes and "No monthly cost" in answers["cost"].detail
    assert context["ready"] == sum(a.yes for a in answers.values())


def test_the_models_record_links_to_its_page(client, ai_model, risk_officer):
    client.force_login(risk_officer)
    change = client.get(f"/admin/compliance/aimodel/{ai_model.pk}/change/").content.decode()
    assert page(ai_model) in change


def test_the_page_is_404_for_an_unknown_model_and_needs_a_login(client, risk_officer):
    assert client.get("/admin/compliance/aimodel/1/overview/").status_code == 302
    client.force_login(risk_officer)
    assert client.get("/admin/compliance/aimodel/999999/overview/").status_code == 404


def test_people_without_the_inventory_cannot_open_it(client, ai_model, outsider):
    outsider.is_staff = True
    outsider.save()
    client.force_login(outsider)
    assert client.get(page(ai_model)).status_code == 403
