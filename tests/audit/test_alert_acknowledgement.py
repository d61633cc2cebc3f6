"""Acknowledging an alert: who, when and why, in the ledger; risk officers only; the alert
stays on the dashboard until then."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from audit.ledger import acknowledge_alert, raise_alert
from audit.models import Alert, GovernanceEvent
from compliance.models import IllegalTransition, RuleViolation


@pytest.fixture
def alert(ai_model):
    return raise_alert(
        Alert.Kind.FAIRNESS_BREACH,
        model=ai_model,
        subject="sex=F",
        message="Impact ratio of sex=F is 0.62, below 0.8.",
    )


def url(alert) -> str:
    return f"/api/v1/alerts/{alert.pk}/acknowledge/"


def test_acknowledging_records_who_when_and_why_in_the_ledger(alert, risk_officer):
    acknowledge_alert(alert, risk_officer, "Known: retrain 1.2.0 under validation fixes it.")
    alert.refresh_from_db()
    assert alert.acknowledged_by == risk_officer and alert.acknowledged_at is not None
    assert alert.acknowledgement == "Known: retrain 1.2.0 under validation fixes it."
    event = GovernanceEvent.objects.get(event_type="alert.acknowledged")
    assert (event.actor_name, event.object_id, event.model_id) == (
        "rita",
        str(alert.pk),
        alert.model_id,
    )
    assert event.reason == "Known: retrain 1.2.0 under validation fixes it."
    assert event.before == {"kind": "fairness_breach", "subject": "sex=F", "open": True}
    assert event.after["open"] is False


def test_the_same_breach_raises_a_new_alert_once_the_old_one_is_acknowledged(
    alert, risk_officer, ai_model
):
    acknowledge_alert(alert, risk_officer, "Seen.")
    again = raise_alert(Alert.Kind.FAIRNESS_BREACH, model=ai_model, subject="sex=F", message="x")
    assert again.is_new and again.pk != alert.pk


def test_only_risk_officers_may_acknowledge(alert, validator, auditor):
    for person in (validator, auditor):
        with pytest.raises(RuleViolation, match="Only model risk officers"):
            acknowledge_alert(alert, person, "Seen.")
    assert not GovernanceEvent.objects.filter(event_type="alert.acknowledged").exists()


def test_a_reason_is_required(alert, risk_officer):
    with pytest.raises(ValidationError):
        acknowledge_alert(alert, risk_officer, "   ")


def test_an_alert_is_acknowledged_once(alert, risk_officer):
    acknowledge_alert(alert, risk_officer, "Seen.")
    with pytest.raises(IllegalTransition, match="acknowledged already, by rita"):
        acknowledge_alert(alert, risk_officer, "Seen again.")


# ---------------------------------------------------------------------------- the API


def test_the_api_acknowledges_for_a_risk_officer(api, alert, risk_officer):
    response = api.as_(risk_officer).post(url(alert), {"reason": "Looked into it."})
    assert response.status_code == 200, response.data
    assert response.data["acknowledged_by"] == "rita"
    assert response.data["acknowledgement"] == "Looked into it."
    assert response.data["model"] == "credit-scoring"


def test_the_api_refuses_anyone_else(api, alert, validator, auditor, developer):
    for person in (validator, auditor, developer):
        response = api.as_(person).post(url(alert), {"reason": "Looked into it."})
        assert response.status_code == 403
        assert "Only model risk officers" in response.data["detail"]
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_the_api_needs_a_login(api, alert):
    assert api.post(url(alert), {"reason": "x"}).status_code == 401


def test_the_api_needs_a_reason(api, alert, risk_officer):
    client = api.as_(risk_officer)
    assert "reason" in client.post(url(alert), {}).data
    assert client.post(url(alert), {"reason": " "}).status_code == 400


def test_the_api_answers_404_and_409(api, alert, risk_officer):
    client = api.as_(risk_officer)
    assert client.post("/api/v1/alerts/999999/acknowledge/", {"reason": "x"}).status_code == 404
    assert client.post(url(alert), {"reason": "x"}).status_code == 200
    again = client.post(url(alert), {"reason": "x"})
    assert again.status_code == 409 and "acknowledged already" in again.data["detail"]


# ---------------------------------------------------------------------------- the admin


def test_the_alert_page_offers_acknowledge_to_risk_officers_only(
    client, alert, risk_officer, auditor
):
    page = f"/admin/audit/alert/{alert.pk}/change/"
    act = f"/admin/audit/alert/{alert.pk}/act/acknowledge/"
    client.force_login(auditor)
    assert act not in client.get(page).content.decode()
    assert client.get(act).status_code == 403
    client.force_login(risk_officer)
    assert act in client.get(page).content.decode()
    response = client.post(act, {"reason": "Retrain scheduled."}, follow=True)
    assert "Acknowledge: " in response.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledgement == "Retrain scheduled." and alert.acknowledged_by == risk_officer
    assert act not in client.get(page).content.decode()


def test_the_bulk_action_acknowledges_with_one_reason(client, alert, risk_officer, ai_model):
    other = raise_alert(Alert.Kind.DRIFT_BREACH, model=ai_model, subject="income", message="x")
    client.force_login(risk_officer)
    form = {"action": "acknowledge", "_selected_action": [alert.pk, other.pk]}
    assert "reason" in client.post("/admin/audit/alert/", form).content.decode()
    client.post("/admin/audit/alert/", {**form, "apply": "1", "reason": "Both seen."})
    assert set(Alert.objects.values_list("acknowledgement", flat=True)) == {"Both seen."}


def test_unacknowledged_alerts_stay_on_the_dashboard_until_acknowledged(
    client, alert, risk_officer
):
    client.force_login(risk_officer)
    link = f"/admin/audit/alert/{alert.pk}/change/"
    assert link in client.get("/admin/").content.decode()
    acknowledge_alert(alert, risk_officer, "Seen.")
    assert link not in client.get("/admin/").content.decode()
