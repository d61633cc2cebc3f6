"""Every change to the inventory, through any door, is a governance event in the ledger."""

from __future__ import annotations

from django.test import Client

from audit.models import GovernanceEvent
from tests.compliance.test_admin import model_form


def test_registering_a_model_is_recorded_with_its_fields(ai_model):
    event = GovernanceEvent.objects.get(event_type="aimodel.created")
    assert event.model == ai_model
    assert event.after["slug"] == "credit-scoring"
    assert event.object_repr == "Retail credit scoring"


def test_an_admin_change_records_who_changed_what_before_and_after(risk_officer, ai_model):
    client = Client()
    client.force_login(risk_officer)
    url = f"/admin/compliance/aimodel/{ai_model.pk}/change/"
    assert client.post(url, model_form(ai_model, risk_tier=2)).status_code == 302
    event = GovernanceEvent.objects.filter(event_type="aimodel.changed").latest("occurred_at")
    assert (event.before, event.after) == ({"risk_tier": 1}, {"risk_tier": 2})
    assert event.actor_name == "rita"


def test_a_change_reason_is_kept(ai_model):
    ai_model._change_reason = "annual review"
    ai_model.risk_tier = 2
    ai_model.save()
    event = GovernanceEvent.objects.filter(event_type="aimodel.changed").latest("occurred_at")
    assert event.reason == "annual review"


def test_an_api_change_names_the_user(api, risk_officer, ai_model):
    api.as_(risk_officer).patch("/api/v1/models/credit-scoring/", {"risk_tier": 3}, format="json")
    event = GovernanceEvent.objects.filter(event_type="aimodel.changed").latest("occurred_at")
    assert event.actor_name == "rita" and event.after == {"risk_tier": 3}


def test_registering_a_version_is_recorded_against_its_model(version):
    event = GovernanceEvent.objects.get(event_type="modelversion.created")
    assert event.model == version.model
    assert event.after["manifest_sha256"] == version.manifest_sha256


def test_a_save_without_a_change_records_nothing(ai_model):
    before = GovernanceEvent.objects.count()
    ai_model.save()
    assert GovernanceEvent.objects.count() == before
