"""The admin enforces roles: the risk officer keeps the inventory; the auditor only reads."""

from __future__ import annotations

import pytest
from django.test import Client

from compliance.choices import VersionState
from compliance.models import AIModel, ModelVersion

MODEL_CHANGE = "/admin/compliance/aimodel/{}/change/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def model_form(model: AIModel, **changes) -> dict:
    data = {
        "name": model.name,
        "slug": model.slug,
        "description": "",
        "domain": "",
        "lifecycle_status": model.lifecycle_status,
        "intended_purpose": "",
        "intended_users": "",
        "business_owner": model.business_owner_id or "",
        "developing_team": [u.pk for u in model.developing_team.all()],
        "risk_tier": model.risk_tier,
        "eu_ai_act_category": model.eu_ai_act_category,
        "annex_iii_area": model.annex_iii_area,
        "sensitive_attributes": '["sex", "age_band"]',
        "favourable_label": "approved",
        "favourable_value": "1",
        "retention_months": model.retention_months,
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_the_risk_officer_filters_and_edits_the_inventory(risk_officer, ai_model):
    client = logged_in(risk_officer)
    listing = client.get("/admin/compliance/aimodel/?risk_tier__exact=1&q=credit")
    assert listing.status_code == 200
    assert b"Retail credit scoring" in listing.content

    response = client.post(MODEL_CHANGE.format(ai_model.pk), model_form(ai_model, risk_tier=2))
    assert response.status_code == 302, response.content.decode()[-2000:]
    ai_model.refresh_from_db()
    assert ai_model.risk_tier == 2
    latest = ai_model.history.latest()
    assert (latest.risk_tier, latest.history_user) == (2, risk_officer)


def test_the_history_view_shows_every_change(risk_officer, ai_model):
    response = logged_in(risk_officer).get(f"/admin/compliance/aimodel/{ai_model.pk}/history/")
    assert response.status_code == 200
    assert b"Created" in response.content


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/compliance/aimodel/",
        "/admin/compliance/aimodel/{model}/change/",
        "/admin/compliance/modelversion/",
        "/admin/compliance/modelversion/{version}/change/",
    ],
)
def test_an_auditor_sees_everything(auditor, version, url):
    response = logged_in(auditor).get(url.format(model=version.model_id, version=version.pk))
    assert response.status_code == 200


def test_an_auditor_cannot_change_add_or_delete_anything(auditor, version):
    client = logged_in(auditor)
    model = version.model
    page = client.get(MODEL_CHANGE.format(model.pk)).content
    assert b'name="_save"' not in page
    assert (
        client.post(MODEL_CHANGE.format(model.pk), model_form(model, risk_tier=3)).status_code
        == 403
    )
    assert client.get("/admin/compliance/aimodel/add/").status_code == 403
    assert client.get(f"/admin/compliance/aimodel/{model.pk}/delete/").status_code == 403
    assert client.get("/admin/compliance/modelversion/add/").status_code == 403
    model.refresh_from_db()
    assert model.risk_tier == 1


def test_nobody_deletes_inventory_records_even_the_risk_officer(risk_officer, version):
    client = logged_in(risk_officer)
    assert client.get(f"/admin/compliance/aimodel/{version.model_id}/delete/").status_code == 403
    assert client.get(f"/admin/compliance/modelversion/{version.pk}/delete/").status_code == 403


def test_a_service_account_has_no_admin(service):
    response = logged_in(service).get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_frozen_version_shows_its_bundle_read_only(developer, version):
    ModelVersion.objects.filter(pk=version.pk).update(state=VersionState.SUBMITTED)
    page = logged_in(developer).get(f"/admin/compliance/modelversion/{version.pk}/change/")
    assert page.status_code == 200
    assert b'name="artifact_sha256"' not in page.content
    assert version.artifact_sha256.encode() in page.content


def test_a_draft_version_is_editable_by_its_developer(developer, version):
    page = logged_in(developer).get(f"/admin/compliance/modelversion/{version.pk}/change/")
    assert b'name="artifact_sha256"' in page.content
